//! A tiny RESP2 client over a tokio `TcpStream`: enough to AUTH and run ACL
//! and CONFIG commands. Commands are sent as arrays of bulk strings, so
//! passwords never need quoting or escaping.

use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

/// A RESP2 reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Reply {
    Simple(String),
    Error(String),
    Integer(i64),
    /// `None` is the null bulk string (`$-1`).
    Bulk(Option<Vec<u8>>),
    /// `None` is the null array (`*-1`).
    Array(Option<Vec<Reply>>),
}

impl Reply {
    pub fn is_null(&self) -> bool {
        matches!(self, Reply::Bulk(None) | Reply::Array(None))
    }

    /// Text of a simple or bulk string reply.
    pub fn as_text(&self) -> Option<String> {
        match self {
            Reply::Simple(s) => Some(s.clone()),
            Reply::Bulk(Some(b)) => Some(String::from_utf8_lossy(b).into_owned()),
            _ => None,
        }
    }
}

/// Protocol or transport failure. Reply errors (`-ERR …`) are not failures
/// of the connection; they come back as [`Reply::Error`].
#[derive(Debug, thiserror::Error)]
pub(crate) enum RespError {
    #[error("i/o: {0}")]
    Io(#[from] std::io::Error),
    #[error("no reply within {0:?}")]
    Timeout(Duration),
    #[error("protocol: {0}")]
    Protocol(String),
}

/// Nested arrays deeper than this are rejected (ACL GETUSER nests 2 levels).
const MAX_DEPTH: usize = 8;
/// Bulk strings larger than this are rejected: no reply we read is near it.
const MAX_BULK: usize = 16 * 1024 * 1024;

pub(crate) struct Connection {
    stream: BufReader<TcpStream>,
    timeout: Duration,
}

impl Connection {
    pub async fn connect(address: &str, timeout: Duration) -> Result<Self, RespError> {
        let stream = tokio::time::timeout(timeout, TcpStream::connect(address))
            .await
            .map_err(|_| RespError::Timeout(timeout))??;
        stream.set_nodelay(true)?;
        Ok(Connection {
            stream: BufReader::new(stream),
            timeout,
        })
    }

    /// Sends one command and reads its reply.
    pub async fn command(&mut self, args: &[&[u8]]) -> Result<Reply, RespError> {
        let frame = encode_command(args);
        let timeout = self.timeout;
        tokio::time::timeout(timeout, async {
            self.stream.get_mut().write_all(&frame).await?;
            read_reply(&mut self.stream, 0).await
        })
        .await
        .map_err(|_| RespError::Timeout(timeout))?
    }
}

impl Connection {
    /// Sends several commands in one write and reads their replies in order (one round trip;
    /// the timeout covers the whole batch).
    pub async fn pipeline(&mut self, commands: &[Vec<&[u8]>]) -> Result<Vec<Reply>, RespError> {
        let mut frame = Vec::new();
        for args in commands {
            frame.extend(encode_command(args));
        }
        let timeout = self.timeout;
        tokio::time::timeout(timeout, async {
            self.stream.get_mut().write_all(&frame).await?;
            let mut replies = Vec::with_capacity(commands.len());
            for _ in commands {
                replies.push(read_reply(&mut self.stream, 0).await?);
            }
            Ok(replies)
        })
        .await
        .map_err(|_| RespError::Timeout(timeout))?
    }
}

pub(crate) fn encode_command(args: &[&[u8]]) -> Vec<u8> {
    let mut out = Vec::with_capacity(16 + args.iter().map(|a| a.len() + 16).sum::<usize>());
    out.extend_from_slice(format!("*{}\r\n", args.len()).as_bytes());
    for a in args {
        out.extend_from_slice(format!("${}\r\n", a.len()).as_bytes());
        out.extend_from_slice(a);
        out.extend_from_slice(b"\r\n");
    }
    out
}

async fn read_line<R: AsyncBufReadExt + Unpin>(r: &mut R) -> Result<String, RespError> {
    let mut line = Vec::new();
    let n = r.read_until(b'\n', &mut line).await?;
    if n == 0 {
        return Err(RespError::Protocol(
            "connection closed by the server".into(),
        ));
    }
    if !line.ends_with(b"\r\n") {
        return Err(RespError::Protocol("line not terminated by CRLF".into()));
    }
    line.truncate(line.len() - 2);
    String::from_utf8(line).map_err(|_| RespError::Protocol("non UTF-8 line".into()))
}

fn parse_len(s: &str) -> Result<i64, RespError> {
    s.parse::<i64>()
        .map_err(|_| RespError::Protocol(format!("bad length {s:?}")))
}

pub(crate) async fn read_reply<R: AsyncBufReadExt + Unpin>(
    r: &mut R,
    depth: usize,
) -> Result<Reply, RespError> {
    if depth > MAX_DEPTH {
        return Err(RespError::Protocol("reply nested too deeply".into()));
    }
    let line = read_line(r).await?;
    let (kind, rest) = line.split_at(line.char_indices().nth(1).map_or(line.len(), |(i, _)| i));
    match kind {
        "+" => Ok(Reply::Simple(rest.to_string())),
        "-" => Ok(Reply::Error(rest.to_string())),
        ":" => Ok(Reply::Integer(parse_len(rest)?)),
        "$" => {
            let len = parse_len(rest)?;
            if len < 0 {
                return Ok(Reply::Bulk(None));
            }
            let len = usize::try_from(len)
                .ok()
                .filter(|l| *l <= MAX_BULK)
                .ok_or_else(|| RespError::Protocol(format!("bulk length {len} too large")))?;
            let mut buf = vec![0u8; len + 2];
            r.read_exact(&mut buf).await?;
            if !buf.ends_with(b"\r\n") {
                return Err(RespError::Protocol(
                    "bulk string not terminated by CRLF".into(),
                ));
            }
            buf.truncate(len);
            Ok(Reply::Bulk(Some(buf)))
        }
        "*" => {
            let len = parse_len(rest)?;
            if len < 0 {
                return Ok(Reply::Array(None));
            }
            let mut items = Vec::new();
            for _ in 0..len {
                items.push(Box::pin(read_reply(r, depth + 1)).await?);
            }
            Ok(Reply::Array(Some(items)))
        }
        _ => Err(RespError::Protocol(format!(
            "unknown reply type {kind:?} (RESP3 is not negotiated)"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn parse(bytes: &[u8]) -> Result<Reply, RespError> {
        let mut r = BufReader::new(bytes);
        read_reply(&mut r, 0).await
    }

    #[test]
    fn encodes_binary_safe_bulk_strings() {
        assert_eq!(
            encode_command(&[b"AUTH", b"p a\r\ns"]),
            b"*2\r\n$4\r\nAUTH\r\n$6\r\np a\r\ns\r\n".to_vec()
        );
    }

    #[tokio::test]
    async fn parses_every_resp2_type() {
        assert_eq!(parse(b"+OK\r\n").await.unwrap(), Reply::Simple("OK".into()));
        assert_eq!(
            parse(b"-WRONGPASS invalid\r\n").await.unwrap(),
            Reply::Error("WRONGPASS invalid".into())
        );
        assert_eq!(parse(b":42\r\n").await.unwrap(), Reply::Integer(42));
        assert!(parse(b"$-1\r\n").await.unwrap().is_null());
        assert!(parse(b"*-1\r\n").await.unwrap().is_null());
        assert_eq!(
            parse(b"*2\r\n$5\r\nflags\r\n*1\r\n$2\r\non\r\n")
                .await
                .unwrap(),
            Reply::Array(Some(vec![
                Reply::Bulk(Some(b"flags".to_vec())),
                Reply::Array(Some(vec![Reply::Bulk(Some(b"on".to_vec()))])),
            ]))
        );
    }

    #[tokio::test]
    async fn rejects_malformed_replies() {
        assert!(matches!(parse(b"").await, Err(RespError::Protocol(_))));
        assert!(matches!(
            parse(b"?x\r\n").await,
            Err(RespError::Protocol(_))
        ));
        assert!(matches!(
            parse(b"$3\r\nabcd\r\n").await,
            Err(RespError::Protocol(_))
        ));
        assert!(matches!(
            parse(b"$x\r\n").await,
            Err(RespError::Protocol(_))
        ));
        assert!(matches!(parse(b"+OK\n").await, Err(RespError::Protocol(_))));
        assert!(matches!(
            parse(b"$999999999\r\n").await,
            Err(RespError::Protocol(_))
        ));
        // A truncated bulk string is an i/o error (unexpected EOF).
        assert!(matches!(parse(b"$5\r\nab").await, Err(RespError::Io(_))));
    }
}
