//! The emulator never outlives the process that started it: a process holding an `Emulator`
//! is killed with SIGKILL (no destructor runs), and the emulator is gone within seconds.
//!
//! The holder is this test binary itself, re-run with only the ignored `holder` test, which
//! starts an emulator, prints its pid and port and sleeps.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const SCENARIO: &str = r#"{"accounts": [{"name": "mgmt", "management": true, "users": []}]}"#;

#[test]
#[ignore = "run by emulator_dies_with_its_owner as the process to kill"]
fn holder() {
    let emu = keytriage::emulator::Emulator::start(SCENARIO, Duration::from_secs(180)).unwrap();
    println!("EMULATOR {} {}", emu.pid(), emu.port());
    std::thread::sleep(Duration::from_secs(120));
    drop(emu);
}

/// True while `pid` exists and is not a zombie.
fn alive(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => {
            // The state follows the parenthesised command name.
            let state = stat.rsplit_once(") ").map(|(_, rest)| rest.chars().next());
            !matches!(state, Some(Some('Z' | 'X')))
        }
        Err(_) => false,
    }
}

#[test]
fn emulator_dies_with_its_owner_after_kill_9() {
    let mut holder = Command::new(std::env::current_exe().unwrap())
        .args(["holder", "--exact", "--ignored", "--nocapture", "--test-threads=1"])
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let stdout = holder.stdout.take().unwrap();
    let mut line = None;
    for l in BufReader::new(stdout).lines() {
        let l = l.unwrap();
        // libtest may print "test holder ... " on the same line first.
        if let Some(at) = l.find("EMULATOR ") {
            line = Some(l[at..].to_owned());
            break;
        }
    }
    let line = line.expect("the holder printed the emulator's pid and port");
    let mut parts = line.split_whitespace().skip(1);
    let pid: u32 = parts.next().unwrap().parse().unwrap();
    let port: u16 = parts.next().unwrap().parse().unwrap();
    assert!(alive(pid), "the emulator runs while its owner lives");
    assert!(std::net::TcpStream::connect(("127.0.0.1", port)).is_ok());

    holder.kill().unwrap(); // SIGKILL
    holder.wait().unwrap();
    let killed = Instant::now();
    // The group leader turns zombie before its other threads have closed the socket: wait
    // for both.
    let listening = || std::net::TcpStream::connect(("127.0.0.1", port)).is_ok();
    while (alive(pid) || listening()) && killed.elapsed() < Duration::from_secs(5) {
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(
        !alive(pid),
        "the emulator {pid} still runs 5 s after its owner was killed"
    );
    assert!(!listening(), "something still listens on {port} 5 s after the kill");
    eprintln!("emulator gone {:?} after kill -9 of its owner", killed.elapsed());
}
