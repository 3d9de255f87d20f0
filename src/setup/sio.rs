//! MinIO's encrypted admin payloads: madmin-go's `EncryptData`/`DecryptData` envelope over the
//! secure-io/sio-go stream format, written from their public code (madmin-go `encrypt.go`,
//! sio-go `sio.go`/`writer.go`, read at github.com/minio/madmin-go v3.0.109 and
//! github.com/secure-io/sio-go 2e9ca5a):
//!
//! ```text
//! envelope  = salt (32 bytes) | algorithm id (1) | nonce (8) | stream
//! key       = Argon2id(password, salt, time 1, memory 64 MiB, 4 lanes, 32 bytes)
//! id        = 0x00 AES-256-GCM, 0x01 ChaCha20-Poly1305 (0x02, PBKDF2 + AES-GCM, is FIPS only)
//! stream    = fragment* final
//! fragment  = AEAD(key, nonce | le32(seq), 16 KiB of plaintext, ad = 0x00 | tag)
//! final     = AEAD(key, nonce | le32(seq), rest (≤ 16 KiB, maybe empty), ad = 0x80 | tag)
//! tag       = AEAD(key, nonce | le32(0), empty plaintext, ad = the caller's (madmin: none))
//! ```
//!
//! `seq` counts fragments from 1. The `0x80` flag of the final fragment makes truncation
//! detectable. The MinIO server decrypts the request bodies of `add-user` and the policy
//! attachment with the caller's secret key and encrypts some answers (`list-users`, the
//! attachment result) the same way; the tests prove both directions on a real server.

use aes_gcm::Aes256Gcm;
use aes_gcm::aead::{Aead, KeyInit, Nonce, Payload};
use chacha20poly1305::ChaCha20Poly1305;
use rand::Rng;

/// Plaintext bytes per fragment (sio-go's `BufSize`).
pub const FRAGMENT_SIZE: usize = 1 << 14;
const SALT_LEN: usize = 32;
const NONCE_LEN: usize = 8;
const HEADER_LEN: usize = SALT_LEN + 1 + NONCE_LEN;
/// The authentication tag of both AEADs.
const TAG_LEN: usize = 16;

/// The AEAD of an envelope, by its id byte.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Algorithm {
    Aes256Gcm,
    ChaCha20Poly1305,
}

impl Algorithm {
    fn id(self) -> u8 {
        match self {
            Algorithm::Aes256Gcm => 0x00,
            Algorithm::ChaCha20Poly1305 => 0x01,
        }
    }

    fn from_id(id: u8) -> Result<Algorithm, CryptoError> {
        match id {
            0x00 => Ok(Algorithm::Aes256Gcm),
            0x01 => Ok(Algorithm::ChaCha20Poly1305),
            0x02 => Err(CryptoError::Unsupported(
                "PBKDF2 + AES-GCM (id 2, MinIO's FIPS mode)",
            )),
            _ => Err(CryptoError::Unsupported("unknown algorithm id")),
        }
    }
}

/// Why an envelope could not be made or opened. Never carries key material.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum CryptoError {
    #[error("encrypted payload shorter than its {HEADER_LEN}-byte header")]
    Truncated,
    #[error("encrypted payload uses an unsupported algorithm: {0}")]
    Unsupported(&'static str),
    #[error("encrypted payload is not authentic (wrong key, or altered or truncated data)")]
    NotAuthentic,
    #[error("key derivation failed: {0}")]
    Kdf(String),
}

/// `EncryptData(password, data)`: a fresh random salt and nonce, AES-256-GCM.
pub fn encrypt_data(password: &[u8], data: &[u8]) -> Result<Vec<u8>, CryptoError> {
    let mut salt = [0u8; SALT_LEN];
    let mut nonce = [0u8; NONCE_LEN];
    rand::rng().fill(&mut salt[..]);
    rand::rng().fill(&mut nonce[..]);
    encrypt_with(Algorithm::Aes256Gcm, password, &salt, &nonce, data)
}

/// The envelope for given salt and nonce (deterministic: for tests and [`encrypt_data`]).
pub fn encrypt_with(
    algorithm: Algorithm,
    password: &[u8],
    salt: &[u8; SALT_LEN],
    nonce: &[u8; NONCE_LEN],
    data: &[u8],
) -> Result<Vec<u8>, CryptoError> {
    let key = derive_key(password, salt)?;
    let stream = match algorithm {
        Algorithm::Aes256Gcm => seal_stream(&aes256(&key)?, nonce, &[], data, FRAGMENT_SIZE)?,
        Algorithm::ChaCha20Poly1305 => {
            seal_stream(&chacha(&key)?, nonce, &[], data, FRAGMENT_SIZE)?
        }
    };
    let mut out = Vec::with_capacity(HEADER_LEN + stream.len());
    out.extend_from_slice(salt);
    out.push(algorithm.id());
    out.extend_from_slice(nonce);
    out.extend_from_slice(&stream);
    Ok(out)
}

/// `DecryptData(password, data)`: the plaintext of an envelope of either AEAD.
pub fn decrypt_data(password: &[u8], data: &[u8]) -> Result<Vec<u8>, CryptoError> {
    if data.len() < HEADER_LEN {
        return Err(CryptoError::Truncated);
    }
    let (salt, rest) = data.split_at(SALT_LEN);
    let algorithm = Algorithm::from_id(rest[0])?;
    let (nonce, stream) = rest[1..].split_at(NONCE_LEN);
    let key = derive_key(password, salt)?;
    match algorithm {
        Algorithm::Aes256Gcm => open_stream(&aes256(&key)?, nonce, &[], stream, FRAGMENT_SIZE),
        Algorithm::ChaCha20Poly1305 => {
            open_stream(&chacha(&key)?, nonce, &[], stream, FRAGMENT_SIZE)
        }
    }
}

/// Argon2id with madmin's parameters.
fn derive_key(password: &[u8], salt: &[u8]) -> Result<[u8; 32], CryptoError> {
    let params = argon2::Params::new(64 * 1024, 1, 4, Some(32))
        .map_err(|e| CryptoError::Kdf(e.to_string()))?;
    let argon = argon2::Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params);
    let mut key = [0u8; 32];
    argon
        .hash_password_into(password, salt, &mut key)
        .map_err(|e| CryptoError::Kdf(e.to_string()))?;
    Ok(key)
}

fn aes256(key: &[u8; 32]) -> Result<Aes256Gcm, CryptoError> {
    Aes256Gcm::new_from_slice(key).map_err(|_| CryptoError::Kdf("bad key length".into()))
}

fn chacha(key: &[u8; 32]) -> Result<ChaCha20Poly1305, CryptoError> {
    ChaCha20Poly1305::new_from_slice(key).map_err(|_| CryptoError::Kdf("bad key length".into()))
}

/// `nonce | le32(seq)`, the AEAD nonce of fragment `seq`.
fn fragment_nonce<A: Aead>(nonce: &[u8], seq: u32) -> Result<Nonce<A>, CryptoError> {
    let mut full = nonce.to_vec();
    full.extend_from_slice(&seq.to_le_bytes());
    Nonce::<A>::try_from(full.as_slice()).map_err(|_| CryptoError::Unsupported("nonce size"))
}

/// The associated data of every fragment but its flag byte: the tag of sealing nothing under
/// fragment number 0, with the caller's associated data.
fn stream_ad<A: Aead>(aead: &A, nonce: &[u8], associated: &[u8]) -> Result<Vec<u8>, CryptoError> {
    let tag = aead
        .encrypt(
            &fragment_nonce::<A>(nonce, 0)?,
            Payload {
                msg: &[],
                aad: associated,
            },
        )
        .map_err(|_| CryptoError::NotAuthentic)?;
    let mut ad = Vec::with_capacity(1 + tag.len());
    ad.push(0x00);
    ad.extend_from_slice(&tag);
    Ok(ad)
}

/// sio's stream encryption with fragments of `fragment_size` plaintext bytes.
fn seal_stream<A: Aead>(
    aead: &A,
    nonce: &[u8],
    associated: &[u8],
    data: &[u8],
    fragment_size: usize,
) -> Result<Vec<u8>, CryptoError> {
    let mut ad = stream_ad(aead, nonce, associated)?;
    // Every fragment is full but the final one, which holds 1..=fragment_size bytes (0 for
    // empty data): the writer flushes a full buffer only when more data follows.
    let fragments = data.len().div_ceil(fragment_size).max(1);
    let mut out = Vec::with_capacity(data.len() + fragments * TAG_LEN);
    for (index, chunk) in chunks(data, fragment_size).enumerate() {
        let seq = u32::try_from(index + 1).map_err(|_| CryptoError::Unsupported("too long"))?;
        ad[0] = if index + 1 == fragments { 0x80 } else { 0x00 };
        let sealed = aead
            .encrypt(
                &fragment_nonce::<A>(nonce, seq)?,
                Payload {
                    msg: chunk,
                    aad: &ad,
                },
            )
            .map_err(|_| CryptoError::NotAuthentic)?;
        out.extend_from_slice(&sealed);
    }
    Ok(out)
}

/// sio's stream decryption: fragments of `fragment_size + 16` bytes, the last one final.
fn open_stream<A: Aead>(
    aead: &A,
    nonce: &[u8],
    associated: &[u8],
    stream: &[u8],
    fragment_size: usize,
) -> Result<Vec<u8>, CryptoError> {
    if stream.len() < TAG_LEN {
        return Err(CryptoError::NotAuthentic);
    }
    let mut ad = stream_ad(aead, nonce, associated)?;
    let sealed_size = fragment_size + TAG_LEN;
    let fragments = stream.len().div_ceil(sealed_size);
    let mut out = Vec::with_capacity(stream.len());
    for (index, chunk) in stream.chunks(sealed_size).enumerate() {
        let seq = u32::try_from(index + 1).map_err(|_| CryptoError::Unsupported("too long"))?;
        ad[0] = if index + 1 == fragments { 0x80 } else { 0x00 };
        let plain = aead
            .decrypt(
                &fragment_nonce::<A>(nonce, seq)?,
                Payload {
                    msg: chunk,
                    aad: &ad,
                },
            )
            .map_err(|_| CryptoError::NotAuthentic)?;
        out.extend_from_slice(&plain);
    }
    Ok(out)
}

/// `data` in fragments of `size`, and one empty fragment for empty data.
fn chunks(data: &[u8], size: usize) -> impl Iterator<Item = &[u8]> {
    let empty: &[u8] = &[];
    let first_empty = data.is_empty().then_some(empty);
    first_empty.into_iter().chain(data.chunks(size))
}

#[cfg(test)]
mod tests {
    use super::*;
    use aes_gcm::Aes128Gcm;

    fn unhex(s: &str) -> Vec<u8> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("hex"))
            .collect()
    }

    /// Vectors of secure-io/sio-go's `test_vectors.json` (AES-128-GCM, 8-byte nonces, small
    /// fragment sizes): empty data, one fragment, a final fragment that is full, several
    /// fragments, associated data.
    #[test]
    fn the_stream_matches_sio_go_test_vectors() {
        // (fragment size, key, nonce, associated data, plaintext, ciphertext)
        let vectors = [
            (
                16,
                "00000000000000000000000000000000",
                "0000000000000000",
                "",
                "",
                "e0247a864e783cecb1f7996c13cd3f64",
            ),
            (
                16,
                "00000000000000000000000000000001",
                "2000000000000000",
                "1000000000000000",
                "00000000000000000000000000000000",
                "8501dcfa461a0860ef9933655b1e59a9e7db1ed363b6ff80f219ca986dca9ce2",
            ),
            (
                16,
                "10000000000000000000000000000000",
                "0000000000000002",
                "",
                "0000000000000000000000000000000000",
                "691deb7b9ccbee91f48d12c7ad5fe3cd4e1e5e7d394f06b91228ec9a5dd2456ac7de9502a0b4010fb1ee1db94e940458fb",
            ),
            (
                16,
                "20000000000000000000000000000000",
                "2000000000000000",
                "00",
                "0000000000000000000000000000000000000000000000000000000000000000",
                "f58d8fef7ac7782a4361a79c07f5e6c4672d8a45e6cb9ef67cb7177897358deb8d338d313d44f78e0b68a3723d7ca0fe5f62aa8af0a72e508f5d5f8491ecedb2",
            ),
            (
                17,
                "31dd758d120fd5d30063921a21f723be",
                "d3794fe387018e32",
                "1d838b6e861ea7576de110e08818de82a27337a99db7b95aa95c3347971ad4cfa0ef0960d6645f5a64f88c7d",
                "d0ae0d85e93ed6be853ded2031643116a03215b4fda224d2986d7233039aa47e91b686f4",
                "a6fe911b94e0b25a25bf6da71f28ad6a6b6920be01589e9194226f77c164606545d5cbdb76c99415b468c54517f5a8bc8dc8ac13b1b4285fe36f37f7884d5e4bfb32ecef56b4026bf02bfb1d4fce222e01ef9db9",
            ),
        ];
        for (size, key, nonce, ad, plain, cipher) in vectors {
            let aead = Aes128Gcm::new_from_slice(&unhex(key)).expect("key");
            let (nonce, ad) = (unhex(nonce), unhex(ad));
            let sealed = seal_stream(&aead, &nonce, &ad, &unhex(plain), size).expect("seal");
            assert_eq!(sealed, unhex(cipher), "vector {key}");
            let opened = open_stream(&aead, &nonce, &ad, &sealed, size).expect("open");
            assert_eq!(opened, unhex(plain));
        }
    }

    #[test]
    fn fragments_split_the_data_and_the_last_one_is_final() {
        let aead = Aes128Gcm::new_from_slice(&[7u8; 16]).expect("key");
        let nonce = [3u8; 8];
        for len in [0usize, 1, 15, 16, 17, 32, 33, 100] {
            let data: Vec<u8> = (0..len).map(|i| i as u8).collect();
            let sealed = seal_stream(&aead, &nonce, &[], &data, 16).expect("seal");
            let fragments = len.div_ceil(16).max(1);
            assert_eq!(sealed.len(), len + fragments * TAG_LEN, "length {len}");
            assert_eq!(
                open_stream(&aead, &nonce, &[], &sealed, 16).expect("open"),
                data
            );
            if fragments > 1 {
                // dropping the final fragment leaves a non-final one last: refused
                let cut = &sealed[..(fragments - 1) * (16 + TAG_LEN)];
                assert_eq!(
                    open_stream(&aead, &nonce, &[], cut, 16),
                    Err(CryptoError::NotAuthentic),
                    "truncation at {len}"
                );
            }
        }
    }

    #[test]
    fn envelopes_round_trip_and_refuse_the_wrong_password() {
        let data = vec![b'x'; FRAGMENT_SIZE + 5];
        let sealed = encrypt_data(b"secret-key", &data).expect("encrypt");
        assert_eq!(sealed[32], 0x00, "AES-256-GCM");
        assert_eq!(
            sealed.len(),
            HEADER_LEN + data.len() + 2 * TAG_LEN,
            "two fragments"
        );
        assert_eq!(decrypt_data(b"secret-key", &sealed).expect("decrypt"), data);
        assert_eq!(
            decrypt_data(b"other-key", &sealed),
            Err(CryptoError::NotAuthentic)
        );
        let chacha = encrypt_with(
            Algorithm::ChaCha20Poly1305,
            b"k",
            &[1; 32],
            &[2; 8],
            b"{\"status\":\"enabled\"}",
        )
        .expect("encrypt");
        assert_eq!(chacha[32], 0x01);
        assert_eq!(
            decrypt_data(b"k", &chacha).expect("decrypt"),
            b"{\"status\":\"enabled\"}"
        );
        let mut fips = chacha.clone();
        fips[32] = 0x02;
        assert!(matches!(
            decrypt_data(b"k", &fips),
            Err(CryptoError::Unsupported(_))
        ));
        assert_eq!(decrypt_data(b"k", &[0; 10]), Err(CryptoError::Truncated));
    }
}
