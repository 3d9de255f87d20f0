//! A Kafka broker in ZooKeeper mode (`tools/testdeps/kafka.sh`), run as
//! `kafka.Kafka server.properties` like `kafka-server-start.sh`, and the Kafka
//! protocol's Metadata request (v0), written from the Kafka protocol guide.

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use super::zookeeper::Zookeeper;
use super::{ServerProcess, free_port, java_command, loopback, server_dir, testdep, write_file};

/// A running broker.
pub struct Kafka {
    /// The PLAINTEXT listener (also the advertised one).
    pub address: SocketAddr,
    pub broker_id: i32,
    pub process: ServerProcess,
}

/// What a Metadata v0 response says.
#[derive(Debug, Clone, PartialEq)]
pub struct Metadata {
    /// (node id, host, port) of each broker.
    pub brokers: Vec<(i32, String, i32)>,
    /// (error code, name) of each topic.
    pub topics: Vec<(i16, String)>,
}

impl Kafka {
    /// Starts a broker registered in `zookeeper` with `server_properties` (as the
    /// operator renders them, or ""). The helper puts single-broker defaults before
    /// them (`broker.id=0`, replication factors 1, no rebalance delay) and these keys
    /// after them (the last value of a key wins): log.dirs, zookeeper.connect,
    /// listeners and advertised.listeners (`PLAINTEXT://127.0.0.1:<port>`),
    /// listener.security.protocol.map and inter.broker.listener.name. Waits until a
    /// Metadata request lists this broker.
    pub fn start(zookeeper: &Zookeeper, server_properties: &str) -> Kafka {
        let libs = testdep("kafka");
        let dir = server_dir("kafka");
        let address = loopback(free_port());
        let d = dir.path().display();
        let properties = dir.path().join("server.properties");
        write_file(
            &properties,
            format!(
                "broker.id=0\nnum.partitions=1\n\
                 offsets.topic.replication.factor=1\ntransaction.state.log.replication.factor=1\n\
                 transaction.state.log.min.isr=1\ngroup.initial.rebalance.delay.ms=0\n\
                 {server_properties}\n\
                 log.dirs={d}/data\nzookeeper.connect={}\n\
                 listeners=PLAINTEXT://{address}\nadvertised.listeners=PLAINTEXT://{address}\n\
                 listener.security.protocol.map=PLAINTEXT:PLAINTEXT\n\
                 inter.broker.listener.name=PLAINTEXT\n",
                zookeeper.connect_string()
            ),
        );
        let broker_id = last_value(
            &std::fs::read_to_string(&properties).unwrap_or_default(),
            "broker.id",
        )
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
        let mut command = java_command(&libs, dir.path(), "512m");
        command.arg("kafka.Kafka").arg(&properties);
        let mut process = ServerProcess::spawn("kafka", command, dir);
        process.wait_ready("a Metadata request lists this broker", || {
            let metadata = metadata(address).map_err(|e| e.to_string())?;
            let listed = metadata
                .brokers
                .iter()
                .any(|(id, _, port)| *id == broker_id && *port == i32::from(address.port()));
            match listed {
                true => Ok(()),
                false => Err(format!("brokers listed: {:?}", metadata.brokers)),
            }
        });
        Kafka {
            address,
            broker_id,
            process,
        }
    }

    /// `127.0.0.1:<port>`, for `bootstrap.servers`.
    pub fn bootstrap_servers(&self) -> String {
        self.address.to_string()
    }
}

/// The last value of `key` in Java properties text (`key=value` lines).
fn last_value(properties: &str, key: &str) -> Option<String> {
    properties
        .lines()
        .rev()
        .filter_map(|line| line.split_once('='))
        .find(|(k, _)| k.trim() == key)
        .map(|(_, v)| v.trim().to_string())
}

/// Sends Metadata v0 for all topics and decodes the brokers and topics.
pub fn metadata(addr: SocketAddr) -> io::Result<Metadata> {
    const METADATA: i16 = 3;
    const CORRELATION_ID: i32 = 7;
    let client_id = b"nuvolaris-test";
    let mut request = Vec::new();
    request.extend_from_slice(&METADATA.to_be_bytes());
    request.extend_from_slice(&0i16.to_be_bytes()); // api version 0
    request.extend_from_slice(&CORRELATION_ID.to_be_bytes());
    request.extend_from_slice(&(client_id.len() as i16).to_be_bytes());
    request.extend_from_slice(client_id);
    request.extend_from_slice(&0i32.to_be_bytes()); // no topics = all topics (v0)

    let mut stream = TcpStream::connect_timeout(&addr, Duration::from_secs(5))?;
    stream.set_read_timeout(Some(Duration::from_secs(30)))?;
    stream.write_all(&(request.len() as i32).to_be_bytes())?;
    stream.write_all(&request)?;
    let mut size = [0u8; 4];
    stream.read_exact(&mut size)?;
    let size = i32::from_be_bytes(size);
    if !(4..=16 * 1024 * 1024).contains(&size) {
        return Err(invalid(format!("bad response size {size}")));
    }
    let mut body = vec![0u8; size as usize];
    stream.read_exact(&mut body)?;
    let mut r = Reader {
        bytes: &body,
        at: 0,
    };
    if r.i32()? != CORRELATION_ID {
        return Err(invalid("correlation id mismatch"));
    }
    let mut brokers = Vec::new();
    for _ in 0..r.count()? {
        brokers.push((r.i32()?, r.string()?, r.i32()?));
    }
    let mut topics = Vec::new();
    for _ in 0..r.count()? {
        let error = r.i16()?;
        let name = r.string()?;
        for _ in 0..r.count()? {
            // partition: error, id, leader, replicas[], isr[]
            r.i16()?;
            r.i32()?;
            r.i32()?;
            for _ in 0..r.count()? {
                r.i32()?;
            }
            for _ in 0..r.count()? {
                r.i32()?;
            }
        }
        topics.push((error, name));
    }
    Ok(Metadata { brokers, topics })
}

fn invalid(what: impl Into<String>) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, what.into())
}

/// Big-endian reader over a response body.
struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl Reader<'_> {
    fn take(&mut self, n: usize) -> io::Result<&[u8]> {
        let slice = self
            .bytes
            .get(self.at..self.at + n)
            .ok_or_else(|| invalid("truncated Metadata response"))?;
        self.at += n;
        Ok(slice)
    }

    fn i16(&mut self) -> io::Result<i16> {
        Ok(i16::from_be_bytes(
            self.take(2)?.try_into().expect("2 bytes"),
        ))
    }

    fn i32(&mut self) -> io::Result<i32> {
        Ok(i32::from_be_bytes(
            self.take(4)?.try_into().expect("4 bytes"),
        ))
    }

    /// An array length (-1, a null array, counts as empty).
    fn count(&mut self) -> io::Result<usize> {
        Ok(usize::try_from(self.i32()?).unwrap_or(0))
    }

    fn string(&mut self) -> io::Result<String> {
        let len = usize::try_from(self.i16()?).unwrap_or(0);
        Ok(String::from_utf8_lossy(self.take(len)?).into_owned())
    }
}
