//! `setup milvus` against the stand-in for Milvus's REST API v2 (`support::milvus_standin`: no
//! real Milvus with users and roles runs here; see there what it implements and checks).

mod support;

use std::time::{Duration, Instant};

use nuvolaris_operator::setup::{MilvusSetupConfig, Outcome, Secret, SetupError, run_milvus_setup};
use support::milvus_standin::{ROOT_PASSWORD, Shared, stand_in};

fn settings(url: &str, password: &str) -> MilvusSetupConfig {
    let mut cfg = MilvusSetupConfig::new(
        url.to_owned(),
        Secret::new(ROOT_PASSWORD),
        Secret::new(password),
    );
    cfg.wait = Duration::from_secs(5);
    cfg.timeout = Duration::from_secs(5);
    cfg
}

const WRITES: &[&str] = &[
    "users/create",
    "users/update_password",
    "users/grant_role",
    "databases/create",
    "roles/create",
    "roles/grant_privilege_v2",
];

fn writes(state: &Shared) -> Vec<String> {
    state
        .lock()
        .unwrap()
        .calls
        .iter()
        .filter(|(path, _)| WRITES.contains(&path.as_str()))
        .map(|(path, _)| path.clone())
        .collect()
}

#[tokio::test]
async fn setup_milvus_creates_then_changes_nothing_then_follows_a_new_password() {
    let (url, state) = stand_in().await;
    let password = "nuv@:#'\" pw";
    let started = Instant::now();
    let first = run_milvus_setup(settings(&url, password))
        .await
        .expect("first run");
    let first_ms = started.elapsed().as_millis();
    for step in [
        "user nuvolaris",
        "database nuvolaris",
        "role nuvolaris_role",
    ] {
        assert_eq!(
            first.outcome_of(step),
            Some(Outcome::Created),
            "{step}: {first:?}"
        );
    }
    assert_eq!(
        first.outcome_of("role nuvolaris_role of nuvolaris"),
        Some(Outcome::Updated)
    );
    {
        let m = state.lock().unwrap();
        assert_eq!(m.users.get("nuvolaris").map(String::as_str), Some(password));
        assert!(m.databases.contains("nuvolaris"));
        let grants = &m.grants["nuvolaris_role"];
        for privilege in ["DatabaseAdmin", "CollectionAdmin"] {
            assert!(
                grants.contains(&(privilege.to_owned(), "nuvolaris".to_owned())),
                "{grants:?}"
            );
        }
        assert!(m.user_roles["nuvolaris"].contains("nuvolaris_role"));
    }
    let writes_after_first = writes(&state).len();

    let started = Instant::now();
    let second = run_milvus_setup(settings(&url, password))
        .await
        .expect("second run");
    let second_ms = started.elapsed().as_millis();
    assert!(second.is_unchanged(), "{second:?}");
    assert_eq!(
        writes(&state).len(),
        writes_after_first,
        "no write on the second run"
    );
    assert!(
        state
            .lock()
            .unwrap()
            .calls
            .iter()
            .any(|(path, user)| path == "databases/list" && user == "nuvolaris"),
        "the user's password is checked with its own token"
    );

    let third = run_milvus_setup(settings(&url, "changed"))
        .await
        .expect("new password");
    assert_eq!(
        third.outcome_of("user nuvolaris"),
        Some(Outcome::Updated),
        "{third:?}"
    );
    assert_eq!(
        state
            .lock()
            .unwrap()
            .users
            .get("nuvolaris")
            .map(String::as_str),
        Some("changed")
    );
    println!(
        "figure: setup milvus against the REST stand-in: first run {first_ms} ms, no-op rerun {second_ms} ms"
    );
}

#[tokio::test]
async fn setup_milvus_refuses_wrong_root_credentials_at_once() {
    let (url, _state) = stand_in().await;
    let mut cfg = settings(&url, "pw");
    cfg.root_password = Secret::new("not-the-root-password");
    cfg.wait = Duration::from_secs(60);
    let started = Instant::now();
    let err = run_milvus_setup(cfg)
        .await
        .expect_err("wrong root password");
    assert!(started.elapsed() < Duration::from_secs(10), "not retried");
    let message = err.to_string();
    assert!(
        message.contains("refused the root credentials"),
        "{message}"
    );
    assert!(!message.contains("not-the-root-password"), "{message}");
}

#[tokio::test]
async fn setup_milvus_gives_up_on_a_milvus_that_does_not_answer() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut cfg = settings(&format!("http://127.0.0.1:{port}"), "pw");
    cfg.wait = Duration::from_secs(1);
    let err = run_milvus_setup(cfg).await.expect_err("nothing listens");
    assert!(
        matches!(
            err,
            SetupError::NotReady {
                service: "milvus",
                ..
            }
        ),
        "{err}"
    );
}
