//! Reaching AWS as the binary does: which identity a named profile gives, and how a bad or
//! unreachable endpoint, region or profile fails (fast, named, no Debug dumps).

mod common;

use serde_json::json;
use std::process::{Output, Stdio};
use std::time::{Duration, Instant};

/// Runs the binary with only `env` (plus PATH) in its environment, so no real AWS file or
/// variable of the machine running the tests takes part.
fn keytriage(args: &[&str], env: &[(&str, &str)]) -> Output {
    // `env_clear` drops the isolation too: it is set again after it.
    let mut cmd = common::keytriage_bin();
    cmd.args(args).env_clear().stdin(Stdio::null()).env("NO_COLOR", "1");
    common::isolate(&mut cmd);
    if let Some(path) = std::env::var_os("PATH") {
        cmd.env("PATH", path);
    }
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().expect("run keytriage")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// An environment with static keys in `AWS_*` and empty AWS files in `dir`.
fn env_credentials(dir: &std::path::Path) -> Vec<(String, String)> {
    let (config, credentials) = (dir.join("config"), dir.join("credentials"));
    for f in [&config, &credentials] {
        if !f.exists() {
            std::fs::write(f, "").unwrap();
        }
    }
    vec![
        ("HOME".into(), dir.display().to_string()),
        ("AWS_ACCESS_KEY_ID".into(), "AKIAIOSFODNN7EXAMPLE".into()),
        ("AWS_SECRET_ACCESS_KEY".into(), "from-the-environment".into()),
        ("AWS_REGION".into(), "us-east-1".into()),
        ("AWS_CONFIG_FILE".into(), config.display().to_string()),
        ("AWS_SHARED_CREDENTIALS_FILE".into(), credentials.display().to_string()),
        ("AWS_EC2_METADATA_DISABLED".into(), "true".into()),
    ]
}

fn refs(env: &[(String, String)]) -> Vec<(&str, &str)> {
    env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect()
}

// See: issue 9, item 3. The environment holds other credentials; `--profile p` must act as
// the profile's identity (moto maps an access key id to the IAM user that owns it).
#[test]
fn a_named_profile_wins_over_credentials_in_the_environment() {
    let key = |age: u32| json!({"age_days": age, "status": "Active", "last_used": null});
    let emu = common::emulator(&json!({
        "organization": true,
        "accounts": [{"name": "mgmt", "management": true, "users": [
            {"name": "operator", "keys": [key(10)]},
            {"name": "target", "keys": [key(200)]}
        ]}]
    }));
    let rt = tokio::runtime::Runtime::new().unwrap();
    let org = rt.block_on(common::scan(&emu));
    let users = &common::account(&org, "mgmt").users;
    let key_of = |name: &str| {
        users
            .iter()
            .find(|u| u.name == name)
            .and_then(|u| u.access_keys.first())
            .map(|k| k.id.0.clone())
            .unwrap_or_else(|| panic!("{name} has a key"))
    };
    let (operator_key, target_key) = (key_of("operator"), key_of("target"));

    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("config"), "[profile p]\nregion = us-east-1\n").unwrap();
    std::fs::write(
        dir.path().join("credentials"),
        format!("[p]\naws_access_key_id = {operator_key}\naws_secret_access_key = anything\n"),
    )
    .unwrap();
    let journal = dir.path().join("journal.jsonl");
    let mut env = env_credentials(dir.path());
    env.push(("KEYTRIAGE_JOURNAL".into(), journal.display().to_string()));
    let endpoint = emu.endpoint();
    let out = keytriage(
        &[
            "--profile",
            "p",
            "--endpoint-url",
            &endpoint,
            "--write",
            "deactivate",
            "--account",
            "123456789012",
            "--user",
            "target",
            "--key",
            &target_key,
            "--yes",
        ],
        &refs(&env),
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        stderr(&out).contains(&format!("connecting to {endpoint} as profile 'p'…")),
        "{}",
        stderr(&out)
    );
    let operators: Vec<String> = std::fs::read_to_string(&journal)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap()["operator"].to_string())
        .collect();
    assert_eq!(
        operators,
        vec!["\"arn:aws:iam::123456789012:user/operator\""; 2],
        "the journal names the profile's identity, not the environment's"
    );
}

// See: issue 9, item 3.
#[test]
fn a_missing_profile_says_so_and_names_the_files() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("config"), "[profile other]\nregion = eu-west-1\n").unwrap();
    let env = env_credentials(dir.path());
    let started = Instant::now();
    let out = keytriage(&["--profile", "nope", "scan"], &refs(&env));
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let err = stderr(&out);
    let (config, credentials) = (dir.path().join("config"), dir.path().join("credentials"));
    assert!(
        err.contains(&format!(
            "profile 'nope' is not defined (looked in {} (AWS_CONFIG_FILE) and {} (AWS_SHARED_CREDENTIALS_FILE))",
            config.display(),
            credentials.display()
        )),
        "{err}"
    );
    assert!(!err.contains("sso login") && !err.contains("IMDS"), "{err}");
    assert!(started.elapsed() < Duration::from_secs(10), "no network was tried");
}

// See: issue 9, item 8. A closed loopback port: refused at once, so no retry may hide it.
#[test]
fn an_unreachable_endpoint_fails_fast_and_names_the_url() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("http://127.0.0.1:{port}");
    let dir = tempfile::tempdir().unwrap();
    let env = env_credentials(dir.path());
    let started = Instant::now();
    let out = keytriage(&["--endpoint-url", &url, "scan"], &refs(&env));
    let took = started.elapsed();
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains(&format!("connecting to {url} as the credentials in AWS_ACCESS_KEY_ID…")),
        "{err}"
    );
    assert!(
        err.contains(&format!("cannot reach AWS as the caller: cannot connect to {url}: ")),
        "{err}"
    );
    assert!(err.contains("Connection refused"), "{err}");
    // A sanity bound, not a benchmark: it took ~23 s when refused connections were retried.
    assert!(took < Duration::from_secs(10), "took {took:?}");
}

// See: issue 9, item 8.
#[test]
fn a_malformed_endpoint_or_region_is_a_clear_message_without_debug_output() {
    let dir = tempfile::tempdir().unwrap();
    let env = env_credentials(dir.path());
    let cases: [(&[&str], &str); 3] = [
        (
            &["--endpoint-url", "not a url", "scan"],
            "endpoint URL 'not a url' is not valid: expected http://host[:port] or https://host[:port]",
        ),
        (
            &["--endpoint-url", "http://exa mple.com", "scan"],
            "endpoint URL 'http://exa mple.com' is not valid",
        ),
        (
            &["--region", "bad region!", "scan"],
            "region 'bad region!' is not valid: expected a name like us-east-1",
        ),
    ];
    for (args, expected) in cases {
        let out = keytriage(args, &refs(&env));
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {err}");
        assert!(err.contains(expected), "{args:?}: {err}");
        for dump in ["SdkBody", "Request {", "Some(", "{ "] {
            assert!(!err.contains(dump), "{args:?} shows Debug output: {err}");
        }
    }
}

// See: issue 9, item 8. Something that is not AWS answers (a proxy, a web server): the
// message names the URL and the HTTP status instead of an empty "(Unknown): ".
#[test]
fn an_endpoint_that_is_not_aws_is_named_with_its_http_status() {
    use std::io::{Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://127.0.0.1:{}", listener.local_addr().unwrap().port());
    std::thread::spawn(move || {
        for mut conn in listener.incoming().flatten() {
            let mut buf = [0u8; 4096];
            let _ = conn.read(&mut buf);
            let _ = conn.write_all(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
        }
    });
    let dir = tempfile::tempdir().unwrap();
    let env = env_credentials(dir.path());
    let out = keytriage(&["--endpoint-url", &url, "scan"], &refs(&env));
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stderr(&out).contains(&format!(
            "sts:GetCallerIdentity failed (Unknown): {url} answered HTTP 404 without an AWS error code"
        )),
        "{}",
        stderr(&out)
    );
}
