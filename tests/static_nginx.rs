//! The static web server's nginx configuration on a real nginx (`tools/testdeps/nginx.sh`):
//! the rendered ConfigMap passes `nginx -t`, and nginx with the rendered server configuration,
//! in front of a real MinIO and a real SeaweedFS set up by `setup minio|seaweedfs`, serves the
//! public bucket as the ingress forwards it (`/nuvolaris-web/<path>`): index pages, directories,
//! the single-page-application fallback for any missing path, and no `x-amz-*` headers.

mod support;

use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use nuvolaris_operator::components::static_content;
use nuvolaris_operator::offline;
use nuvolaris_operator::setup::s3::S3Credentials as OpCredentials;
use nuvolaris_operator::setup::{
    MinioSetupConfig, SeaweedfsSetupConfig, Secret, run_minio_setup, run_seaweedfs_setup,
};
use serde::Deserialize;
use serde_json::Value;
use support::servers::s3::{self, S3Credentials};
use support::servers::{Minio, Nginx, Seaweedfs, http, nginx_check};

/// The ConfigMap of the offline render of `sample`.
fn rendered_config_map(sample: &str) -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(sample);
    let rendered = offline::render_file(&path, Some("kind")).expect("renders");
    serde_yaml_ng::Deserializer::from_str(&rendered.yaml)
        .map(|doc| Value::deserialize(doc).expect("YAML"))
        .find(|o| {
            o["kind"] == "ConfigMap"
                && o["metadata"]["name"]
                    .as_str()
                    .is_some_and(|n| n.starts_with("nginx-static-conf-cm-"))
        })
        .expect("the nginx ConfigMap")
}

/// `nginx -t` on both files of the rendered ConfigMap. The in-cluster store name does not
/// resolve here (nginx resolves upstreams when it loads), so it becomes 127.0.0.1, and the
/// include of `/etc/nginx/conf.d` points to the test's own directory; nothing else changes.
fn check(sample: &str, store_host: &str) {
    let cm = rendered_config_map(sample);
    let default_conf = cm["data"]["default.conf"]
        .as_str()
        .expect("default.conf")
        .replace(store_host, "127.0.0.1");
    let nginx_conf = cm["data"]["nginx.conf"]
        .as_str()
        .expect("nginx.conf")
        .replace(
            "include /etc/nginx/conf.d/*.conf;",
            "include conf.d/*.conf;",
        );
    assert!(
        nginx_conf.contains("include conf.d/*.conf;"),
        "{nginx_conf}"
    );
    let report = nginx_check(&nginx_conf, &[("conf.d/default.conf", &default_conf)])
        .unwrap_or_else(|report| panic!("nginx -t refused the configuration: {report}"));
    assert!(report.contains("test is successful"), "{report}");
}

#[test]
fn the_rendered_configuration_passes_nginx_t() {
    check(
        "tests/samples/storage-minio.yaml",
        "nuvolaris-minio.nuvolaris.svc.cluster.local",
    );
    check(
        "tests/samples/storage-seaweedfs.yaml",
        "seaweedfs.nuvolaris.svc.cluster.local",
    );
}

/// nginx with the rendered server configuration in front of the store at `store`.
fn static_server(store: SocketAddr) -> Nginx {
    Nginx::start(|address| {
        static_content::default_conf(&format!("http://{store}"), address.port()).expect("renders")
    })
}

/// What the static server must do, once the store is set up and `user` may write the bucket.
fn serves_the_public_bucket(store: SocketAddr, user: &S3Credentials) {
    let page = b"<html><body>docs home</body></html>";
    let put = s3::request(
        store,
        user,
        "PUT",
        "/nuvolaris-web/docs/index.html",
        &[],
        page,
    )
    .expect("PUT");
    assert_eq!(put.status, 200, "{}", put.text());
    let nginx = static_server(store);
    let get = |path: &str| http::get(nginx.address, path).expect("GET");

    let root = get("/nuvolaris-web/");
    assert_eq!(root.status, 200, "{}", root.text());
    assert!(
        root.text().contains("It works"),
        "the default page: {}",
        root.text()
    );
    for header in ["x-amz-request-id", "x-amz-id-2"] {
        assert_eq!(root.header(header), None, "{header} is hidden");
    }
    let index = get("/nuvolaris-web/index.html");
    assert_eq!(index.status, 200);
    let directory = get("/nuvolaris-web/docs/");
    assert_eq!(
        (directory.status, directory.text().as_bytes()),
        (200, &page[..])
    );
    let no_slash = get("/nuvolaris-web/docs");
    assert_eq!(no_slash.status, 200, "a directory without its slash");
    assert_eq!(no_slash.text().as_bytes(), page);
    let route = get("/nuvolaris-web/app/some/route");
    assert_eq!(
        route.status,
        200,
        "single-page application route: {}",
        route.text()
    );
    assert!(route.text().contains("It works"), "the bucket's index.html");
    // as the original: any missing path, files included, falls back to the index page
    let missing = get("/nuvolaris-web/missing.png");
    assert_eq!(missing.status, 200, "{}", missing.text());
    assert!(missing.text().contains("It works"), "{}", missing.text());
}

#[tokio::test]
async fn nginx_serves_minio_s_public_bucket() {
    let minio = Minio::start();
    let mut cfg = MinioSetupConfig::new(
        minio.endpoint(),
        OpCredentials::new(
            minio.root.access_key.clone(),
            Secret::new(minio.root.secret_key.clone()),
        ),
        OpCredentials::new("nuvolaris", Secret::new("user-S3cret-key")),
    );
    cfg.wait = Duration::from_secs(30);
    run_minio_setup(cfg).await.expect("setup minio");
    let user = S3Credentials::new("nuvolaris", "user-S3cret-key");
    tokio::task::spawn_blocking(move || serves_the_public_bucket(minio.address, &user))
        .await
        .expect("checks");
}

#[tokio::test]
async fn nginx_serves_seaweedfs_s_public_bucket() {
    let weed = Seaweedfs::start();
    let mut cfg = SeaweedfsSetupConfig::new(
        format!("http://{}", weed.s3),
        format!("http://{}", weed.filer),
        OpCredentials::new("nuvolaris", Secret::new("user-S3cret-key")),
        1024,
    );
    cfg.wait = Duration::from_secs(60);
    run_seaweedfs_setup(cfg).await.expect("setup seaweedfs");
    let user = S3Credentials::new("nuvolaris", "user-S3cret-key");
    let store = weed.s3;
    tokio::task::spawn_blocking(move || serves_the_public_bucket(store, &user))
        .await
        .expect("checks");
    drop(weed);
}
