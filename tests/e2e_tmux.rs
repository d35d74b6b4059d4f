//! End to end, as a person would: the built binary runs `--demo` inside tmux; keys are sent
//! with `send-keys` and the screen is read with `capture-pane`. Needs tmux (`.ci/run`
//! installs it); without it this test fails, it never skips.

mod common;

use std::process::Command;
use std::time::{Duration, Instant};

struct Tmux {
    socket: String,
}

impl Tmux {
    /// Runs `cmd` (shell syntax) in a new tmux server, its data and config directories the
    /// tests' own ([`common::isolated_dirs`]): the demo's history never reaches the real one.
    fn start(cmd: &str) -> Self {
        let (data, config) = common::isolated_dirs();
        let cmd = format!(
            "export XDG_DATA_HOME='{}' XDG_CONFIG_HOME='{}'; unset KEYTRIAGE_JOURNAL; {cmd}",
            data.display(),
            config.display()
        );
        static N: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let socket = format!("keytriage-e2e-{}-{n}", std::process::id());
        let t = Self { socket };
        let ok = t.run(&["new-session", "-d", "-s", "kt", "-x", "140", "-y", "45", &cmd]);
        assert!(ok, "tmux could not start; install tmux (apt-get install tmux)");
        // A lone Escape must not merge with the next key into Alt-<key>.
        t.run(&["set-option", "-s", "escape-time", "0"]);
        t
    }

    fn run(&self, args: &[&str]) -> bool {
        Command::new("tmux")
            .arg("-L")
            .arg(&self.socket)
            .args(args)
            .status()
            .unwrap_or_else(|e| panic!("tmux is required for this test and could not run: {e}"))
            .success()
    }

    fn keys(&self, keys: &[&str]) {
        for k in keys {
            assert!(self.run(&["send-keys", "-t", "kt", k]));
            let pause = if *k == "Escape" { 300 } else { 120 };
            std::thread::sleep(Duration::from_millis(pause));
        }
    }

    fn screen(&self) -> String {
        let out = Command::new("tmux")
            .args(["-L", &self.socket, "capture-pane", "-p", "-t", "kt"])
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Waits until the screen contains `text`; panics with the screen after `timeout`.
    fn wait_for(&self, text: &str, timeout: Duration) -> String {
        let start = Instant::now();
        loop {
            let s = self.screen();
            if s.contains(text) {
                return s;
            }
            assert!(
                start.elapsed() < timeout,
                "waited {timeout:?} for '{text}'; the screen:\n{s}"
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = Command::new("tmux").args(["-L", &self.socket, "kill-server"]).status();
    }
}

fn row_with<'a>(screen: &'a str, text: &str) -> &'a str {
    screen
        .lines()
        .find(|l| l.contains(text))
        .unwrap_or_else(|| panic!("no line with '{text}' in:\n{screen}"))
}

#[test]
fn demo_in_tmux_drill_sort_filter_and_org_wide_keys() {
    let bin = env!("CARGO_BIN_EXE_keytriage");
    let t = Tmux::start(&format!("{bin} --demo; sleep 60"));
    let s = t.wait_for("scanned 9 accounts", Duration::from_secs(240));
    assert!(s.contains("[ WRITE ]"), "the demo writes: {s}");
    assert!(s.contains("1 denied · 1 skipped"), "the SCAN column's word: {s}");
    assert!(row_with(&s, "acme-sandbox-research").contains("denied"));
    assert!(row_with(&s, "acme-legacy").contains("SUSPENDED"));
    // Worst first: the account with the root access key is on top.
    let first_data = s.lines().nth(4).unwrap_or_default();
    assert!(first_data.contains("acme-prod-web"), "worst account first:\n{s}");

    // Drill into it: the root user leads (Enter shows it in full), then its worst IAM user.
    t.keys(&["Enter"]);
    let s = t.wait_for("users · acme-prod-web", Duration::from_secs(5));
    assert!(s.contains("FINDINGS▼"));
    assert!(s.lines().nth(4).unwrap_or_default().contains("<root_account>"), "{s}");
    t.keys(&["Enter"]);
    t.wait_for("root-access-key", Duration::from_secs(5));
    t.keys(&["Escape", "j", "Enter"]);
    let s = t.wait_for("┌ credentials", Duration::from_secs(5));
    assert!(s.contains("user "), "{s}");
    assert!(s.contains("findings ("), "{s}");
    t.keys(&["Escape", "Escape"]);
    t.wait_for("accounts [9/9]", Duration::from_secs(5));

    // Sort by the next column (CRIT → HIGH) and back.
    t.keys(&["s"]);
    t.wait_for("sort HIGH▼", Duration::from_secs(5));
    t.keys(&["<"]);
    t.wait_for("sort CRIT▼", Duration::from_secs(5));

    // Every key in the organization, oldest first: two keystrokes plus Enter.
    t.keys(&[":", "k", "Tab", "Enter"]);
    let s = t.wait_for("access keys (all accounts)", Duration::from_secs(5));
    assert!(s.contains("sort AGE▼"), "{s}");
    let oldest = s.lines().nth(4).unwrap_or_default();
    assert!(oldest.contains("Active") || oldest.contains("Inactive"), "{s}");

    // Filter to console users without MFA from the findings view.
    t.keys(&[":", "f", "i", "n", "d", "Enter", "/", "console-without-mfa"]);
    let s = t.wait_for("filter /console-without-mfa", Duration::from_secs(5));
    let rows: Vec<&str> = s
        .lines()
        .filter(|l| l.contains("console-without-mfa") && l.contains("HIGH"))
        .collect();
    assert!(rows.len() >= 5, "console users without MFA:\n{s}");
    t.keys(&["Escape", "?"]);
    t.wait_for("keyboard (what works in this view)", Duration::from_secs(5));
    t.keys(&["Escape", "q"]);
    // Quitting leaves the alternate screen: the shell's screen is back, the TUI is gone.
    let s = t.wait_for("starting the emulated demo organization", Duration::from_secs(5));
    assert!(!s.contains("keytriage ["), "{s}");
}

#[test]
fn read_only_action_keys_make_no_write_call() {
    let emu = keytriage::emulator::Emulator::start(
        &serde_json::json!({
            "organization": true,
            "accounts": [
                {"name": "mgmt", "email": "m@example.com", "management": true, "users": []},
                {"name": "prod", "email": "p@example.com", "users": [
                    {"name": "ci-robot", "path": "/", "created_days_ago": 500,
                     "keys": [{"age_days": 400, "status": "Active", "last_used": null},
                              {"age_days": 30, "status": "Inactive", "last_used": null}]}]}
            ]
        })
        .to_string(),
        Duration::from_secs(120),
    )
    .expect("emulator");
    let dir = tempfile::tempdir().unwrap();
    let journal = dir.path().join("journal.jsonl");
    let bin = env!("CARGO_BIN_EXE_keytriage");
    let cmd = format!(
        "env AWS_ACCESS_KEY_ID=AKIAKEYTRIAGETEST000 AWS_SECRET_ACCESS_KEY=x AWS_REGION=us-east-1 \
         AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null KEYTRIAGE_JOURNAL={} \
         {bin} --endpoint-url {}; sleep 60",
        journal.display(),
        emu.endpoint()
    );
    let t = Tmux::start(&cmd);
    let s = t.wait_for("scanned 2 accounts", Duration::from_secs(60));
    assert!(s.contains("[ READ-ONLY ]"), "{s}");
    emu.reset_stats().unwrap();

    t.keys(&[":", "k", "e", "y", "s", "Enter"]);
    t.wait_for("access keys (all accounts)", Duration::from_secs(5));
    for k in ["d", "a", "r", "x"] {
        t.keys(&[k]);
        t.wait_for("read-only: start keytriage with --write", Duration::from_secs(5));
    }
    // And from the user's own view, with confirmation keys pressed after each.
    t.keys(&["Enter"]);
    t.wait_for("user ci-robot", Duration::from_secs(5));
    for k in ["d", "y", "a", "y", "r", "y", "x", "y"] {
        t.keys(&[k]);
    }
    let s = t.screen();
    assert!(
        !s.contains("access key?"),
        "no confirmation dialog opened in read-only mode:\n{s}"
    );
    let stats = emu.stats().unwrap();
    assert_eq!(stats["mutating"], 0, "no write call reached AWS: {stats}");
    assert!(!journal.exists(), "nothing journaled");
}

// See: issue 9, item 9: the failure is logged, R retries, and quitting prints the error
// and exits 1.
#[test]
fn unreachable_aws_is_a_message_not_a_crash() {
    let bin = env!("CARGO_BIN_EXE_keytriage");
    let data = tempfile::tempdir().unwrap();
    // Port 9 (discard) on loopback: connection refused at once.
    let cmd = format!(
        "env AWS_ACCESS_KEY_ID=AKIAKEYTRIAGETEST000 AWS_SECRET_ACCESS_KEY=x AWS_REGION=us-east-1 \
         AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null XDG_DATA_HOME={data} \
         {bin} --endpoint-url http://127.0.0.1:9; echo EXIT=$?; sleep 60",
        data = data.path().display()
    );
    let t = Tmux::start(&cmd);
    let s = t.wait_for("cannot reach AWS as the caller", Duration::from_secs(120));
    assert!(s.contains("not connected"), "{s}");
    assert!(s.contains("press R to retry"), "{s}");
    assert!(!s.contains("scanning…"), "{s}");
    // Still alive and usable a while later: keys work, nothing crashed.
    std::thread::sleep(Duration::from_secs(2));
    t.keys(&["?"]);
    t.wait_for("keyboard (what works in this view)", Duration::from_secs(5));
    t.keys(&["Escape", "R"]);
    // R connects again (and fails again, as the port is still closed).
    t.wait_for("retrying: connecting to AWS", Duration::from_secs(5));
    t.wait_for("cannot connect to http://127.0.0.1:9", Duration::from_secs(30));
    t.keys(&["q"]);
    let s = t.wait_for("EXIT=", Duration::from_secs(5));
    assert!(s.contains("EXIT=1"), "{s}");
    assert!(
        s.contains("keytriage: cannot reach AWS as the caller: cannot connect to http://127.0.0.1:9"),
        "the error is printed on exit:\n{s}"
    );
    let log = std::fs::read_to_string(data.path().join("keytriage/keytriage.log")).unwrap_or_default();
    assert_eq!(
        log.matches("cannot reach AWS as the caller").count(),
        2,
        "both failures are logged:\n{log}"
    );
}

#[test]
fn write_mode_reads_the_key_live_then_bulk_deactivates_the_marked_keys() {
    let key = |age: u32| serde_json::json!({"age_days": age, "status": "Active", "last_used": null});
    let emu = keytriage::emulator::Emulator::start(
        &serde_json::json!({
            "organization": true,
            "accounts": [
                {"name": "mgmt", "email": "m@example.com", "management": true, "users": []},
                {"name": "prod", "email": "p@example.com", "users": [
                    {"name": "batch-job-001", "path": "/", "created_days_ago": 500, "keys": [key(400)]},
                    {"name": "batch-job-002", "path": "/", "created_days_ago": 500, "keys": [key(300)]},
                    {"name": "batch-job-003", "path": "/", "created_days_ago": 500, "keys": [key(200)]}]}
            ]
        })
        .to_string(),
        Duration::from_secs(120),
    )
    .expect("emulator");
    let dir = tempfile::tempdir().unwrap();
    let journal = dir.path().join("journal.jsonl");
    let bin = env!("CARGO_BIN_EXE_keytriage");
    let cmd = format!(
        "env AWS_ACCESS_KEY_ID=AKIAKEYTRIAGETEST000 AWS_SECRET_ACCESS_KEY=x AWS_REGION=us-east-1 \
         AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null KEYTRIAGE_JOURNAL={} \
         {bin} --write --endpoint-url {}; sleep 60",
        journal.display(),
        emu.endpoint()
    );
    let t = Tmux::start(&cmd);
    t.wait_for("scanned 2 accounts", Duration::from_secs(60));
    t.keys(&[":", "k", "e", "y", "s", "Enter"]);
    t.wait_for("access keys (all accounts)", Duration::from_secs(5));
    // A single write: the confirmation comes from the live read.
    t.keys(&["d"]);
    t.wait_for("never used (read live)", Duration::from_secs(10));
    t.keys(&["Escape"]);
    // Mark the three keys and deactivate them in one batch.
    t.keys(&["/", "b", "a", "t", "c", "h", "Enter", "*"]);
    t.wait_for("marked 3 keys", Duration::from_secs(5));
    t.keys(&["d"]);
    t.wait_for("Deactivate 3 access keys?", Duration::from_secs(5));
    t.keys(&["y"]);
    let s = t.wait_for(
        "3 done · 0 skipped · 0 failed · 0 unknown · 0 not started",
        Duration::from_secs(30),
    );
    assert!(s.contains("Deactivate batch: summary"), "{s}");
    t.keys(&["Enter"]);
    let s = t.wait_for("Inactive", Duration::from_secs(5));
    assert!(!s.contains("marked"), "done keys are unmarked:\n{s}");
    let lines: Vec<keytriage::journal::Entry> = keytriage::journal::Journal::at(&journal).read().unwrap();
    assert_eq!(lines.len(), 6, "{lines:?}");
    let batch = lines[0].batch_id.clone().expect("a batch id");
    assert!(lines.iter().all(|e| e.batch_id.as_ref() == Some(&batch)));
    assert_eq!(emu.stats().unwrap()["by_action"]["UpdateAccessKey"], 3);
    t.keys(&["q"]);
}
