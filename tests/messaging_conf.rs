//! The configuration files the operator renders for ZooKeeper (zoo.cfg) and Kafka
//! (server.properties), taken from the ConfigMaps of the enterprise sample's render and run by
//! real servers: ZooKeeper 3.8.4 and Kafka 3.9.1 in ZooKeeper mode (`tools/testdeps/kafka.sh`).
//! The original deploys ZooKeeper 3.4.14 and Kafka 2.3.1, which Maven Central does not have as
//! runnable servers; every key the files use exists in those versions too (see the templates).
//!
//! The test helpers put their own data directories and loopback listeners after the rendered
//! files (the last value of a key wins), so every other setting is the operator's.

mod support;

use std::path::Path;

use nuvolaris_operator::components::{self, ComponentRender};
use nuvolaris_operator::config::{ClusterFacts, Config, GeneratedSecrets};
use nuvolaris_operator::crd::{ComponentId, Whisk};
use serde_json::Value;
use support::servers::{Kafka, Zookeeper, kafka, zookeeper};

/// The enterprise sample's configuration.
fn config() -> Config {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy/samples/enterprise.yaml");
    let text = std::fs::read_to_string(&path).expect("read the enterprise sample");
    let whisk: Whisk = serde_yaml_ng::from_str(&text).expect("the sample is a Whisk");
    let secrets = GeneratedSecrets::placeholders(&components::generated_secret_keys());
    Config::from_whisk(&whisk, &ClusterFacts::default(), &secrets).expect("a valid sample")
}

/// `data[key]` of the ConfigMap `<name>-<hash>` that `component` renders.
fn rendered_file(cfg: &Config, component: ComponentId, name: &str, key: &str) -> String {
    let renders = components::render_all(cfg).expect("renders");
    let objects = renders
        .into_iter()
        .find_map(|r| match r {
            ComponentRender::Rendered(r) if r.id == component => Some(r.objects),
            _ => None,
        })
        .unwrap_or_else(|| panic!("{component} is not rendered"));
    objects
        .iter()
        .find(|o| {
            o["kind"] == "ConfigMap"
                && o["metadata"]["name"]
                    .as_str()
                    .is_some_and(|n| n.starts_with(&format!("{name}-")))
        })
        .and_then(|o| o["data"][key].as_str().map(str::to_owned))
        .unwrap_or_else(|| panic!("{component} renders no ConfigMap {name} with {key}"))
}

/// `key=value` lines of a properties file (comments and blanks skipped).
fn properties(text: &str) -> Vec<(String, String)> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
        .collect()
}

#[test]
fn zookeeper_serves_with_the_rendered_zoo_cfg() {
    let cfg = config();
    let zoo_cfg = rendered_file(&cfg, ComponentId::Zookeeper, "zookeeper", "zoo.cfg");
    let zk = Zookeeper::start(&zoo_cfg);
    // the readiness probe's and Kafka's wait's question
    assert_eq!(
        zookeeper::four_letter_word(zk.address, "ruok").expect("ruok"),
        "imok"
    );
    let srvr = zookeeper::four_letter_word(zk.address, "srvr").expect("srvr");
    assert!(
        srvr.contains("Mode: standalone"),
        "one server line, one server: {srvr}"
    );
    // the rendered whitelist is in force (not the helper's `*`): other words are refused
    let conf = zookeeper::four_letter_word(zk.address, "conf").expect("conf");
    assert!(conf.contains("not in the whitelist"), "{conf}");
    assert!(
        zookeeper::four_letter_word(zk.address, "mntr")
            .expect("mntr")
            .contains("zk_server_state")
    );
    let log = zk.process.log_tail(100_000);
    for expected in [
        "autopurge.snapRetainCount set to 3",
        "autopurge.purgeInterval set to 24",
    ] {
        assert!(
            log.contains(expected),
            "{expected:?} not in the log:\n{log}"
        );
    }
}

#[test]
fn a_kafka_broker_runs_with_the_rendered_server_properties() {
    let cfg = config();
    let rendered = rendered_file(&cfg, ComponentId::Kafka, "kafka", "server.properties");
    let settings = properties(&rendered);
    // what the pod itself adds with --override, and what it derives from the configuration
    assert!(
        settings
            .iter()
            .all(|(k, _)| k != "broker.id" && k != "advertised.listeners"),
        "{rendered}"
    );
    assert!(
        settings.contains(&("zookeeper.connect".to_owned(), cfg.zookeeper.connect())),
        "{rendered}"
    );
    let zk = Zookeeper::start("");
    let kafka = Kafka::start(&zk, &rendered);
    let metadata = kafka::metadata(kafka.address).expect("a Metadata answer");
    assert_eq!(
        metadata.brokers,
        [(0, "127.0.0.1".to_owned(), i32::from(kafka.address.port()))]
    );
    // Kafka knows every key and took the operator's value: its startup dump of KafkaConfig
    // lists them (an unknown key would be absent from it); the helper's own keys are skipped.
    let helper_keys = [
        "log.dirs",
        "zookeeper.connect",
        "listeners",
        "listener.security.protocol.map",
        "inter.broker.listener.name",
    ];
    let log = kafka.process.log_tail(100_000);
    let dump_start = log
        .find("KafkaConfig values:")
        .unwrap_or_else(|| panic!("no KafkaConfig dump in the log:\n{log}"));
    let dump = &log[dump_start..];
    for (key, value) in settings
        .iter()
        .filter(|(k, _)| !helper_keys.contains(&k.as_str()))
    {
        let line = format!("\t{key} = {value}\n");
        assert!(
            dump.contains(&line),
            "Kafka did not take {key}={value} (KafkaConfig dump:\n{dump})"
        );
    }
    assert!(
        !log.contains("isn't a known config"),
        "an unknown key:\n{log}"
    );
}

/// The ConfigMaps are what the pods mount: the StatefulSets read them under the paths the
/// servers are started with.
#[test]
fn the_servers_read_the_files_where_the_configmaps_are_mounted() {
    let cfg = config();
    let renders = components::render_all(&cfg).expect("renders");
    let sts = |name: &str| -> Value {
        renders
            .iter()
            .find_map(|r| match r {
                ComponentRender::Rendered(r) => r
                    .objects
                    .iter()
                    .find(|o| o["kind"] == "StatefulSet" && o["metadata"]["name"] == name)
                    .cloned(),
                _ => None,
            })
            .unwrap_or_else(|| panic!("no StatefulSet {name}"))
    };
    let mount = |sts: &Value, volume: &str| -> String {
        sts.pointer("/spec/template/spec/containers/0/volumeMounts")
            .and_then(Value::as_array)
            .and_then(|m| m.iter().find(|m| m["name"] == volume))
            .and_then(|m| m["mountPath"].as_str())
            .unwrap_or_default()
            .to_owned()
    };
    let kafka = sts("kafka");
    let start = kafka
        .pointer("/spec/template/spec/containers/0/command/2")
        .and_then(Value::as_str)
        .unwrap_or_default();
    assert!(
        start.contains(&format!(
            "kafka-server-start.sh {}/server.properties",
            mount(&kafka, "kafka-config")
        )),
        "{start}"
    );
    // ZooKeeper's image reads zoo.cfg from /conf (ZOOCFGDIR)
    assert_eq!(mount(&sts("zookeeper"), "zk-config"), "/conf");
}
