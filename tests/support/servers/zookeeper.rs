//! ZooKeeper (`tools/testdeps/kafka.sh`: the jars of Kafka's distribution), run as
//! `QuorumPeerMain zoo.cfg` like `zookeeper-server-start.sh`.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use super::{ServerProcess, free_port, java_command, loopback, server_dir, testdep, write_file};

/// A running standalone ZooKeeper.
pub struct Zookeeper {
    pub address: SocketAddr,
    pub process: ServerProcess,
}

impl Zookeeper {
    /// Starts ZooKeeper with `zoo_cfg` (a zoo.cfg as the operator renders it, or "").
    /// The helper puts defaults for tickTime/initLimit/syncLimit and
    /// `4lw.commands.whitelist=*` before it (a whitelist in `zoo_cfg` wins: it must keep
    /// `srvr`) and these keys after it (the last value of a key wins): dataDir,
    /// dataLogDir, clientPort, clientPortAddress and `admin.enableServer=false` (no Jetty
    /// on 8080). More than one `server.N` line would make it a quorum member: leave them
    /// out. Waits until `srvr` reports a serving mode.
    pub fn start(zoo_cfg: &str) -> Zookeeper {
        let libs = testdep("kafka");
        let dir = server_dir("zookeeper");
        let address = loopback(free_port());
        let d = dir.path().display();
        let cfg = dir.path().join("zoo.cfg");
        write_file(
            &cfg,
            format!(
                "tickTime=2000\ninitLimit=5\nsyncLimit=2\n4lw.commands.whitelist=*\n\
                 {zoo_cfg}\n\
                 dataDir={d}/data\ndataLogDir={d}/datalog\n\
                 clientPort={}\nclientPortAddress=127.0.0.1\n\
                 admin.enableServer=false\n",
                address.port()
            ),
        );
        let mut command = java_command(&libs, dir.path(), "256m");
        command
            .arg("org.apache.zookeeper.server.quorum.QuorumPeerMain")
            .arg(&cfg);
        let mut process = ServerProcess::spawn("zookeeper", command, dir);
        process.wait_ready("`srvr` reports a serving mode", || {
            let report = four_letter_word(address, "srvr").map_err(|e| e.to_string())?;
            match report.contains("Mode:") {
                true => Ok(()),
                false => Err(format!("srvr: {report:?}")),
            }
        });
        Zookeeper { address, process }
    }

    /// The `zookeeper.connect` value for this server.
    pub fn connect_string(&self) -> String {
        self.address.to_string()
    }
}

/// Sends a four-letter-word command (`ruok`, `srvr`, `stat`, `mntr`, ...) and returns
/// the whole answer.
pub fn four_letter_word(addr: SocketAddr, word: &str) -> std::io::Result<String> {
    let mut stream = TcpStream::connect_timeout(&addr, Duration::from_secs(5))?;
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    stream.write_all(word.as_bytes())?;
    let mut answer = String::new();
    stream.read_to_string(&mut answer)?;
    Ok(answer)
}
