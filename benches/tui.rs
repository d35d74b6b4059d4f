//! TUI at scale: a synthetic organization of 2,000 accounts and 100,000 access keys, loaded
//! into the app as scan events, then measured with criterion: one frame of `:keys` sorted by
//! age, one filter keystroke, one sort change. Also prints the load time, the first paint
//! of an empty app and the resident memory.
//!
//! Run: `cargo bench --bench tui`.

use chrono::{Duration, TimeZone, Utc};
use criterion::{Criterion, criterion_group, criterion_main};
use crossterm::event::{KeyCode, KeyEvent};
use keytriage::audit::Policy;
use keytriage::model::*;
use keytriage::scan::ScanEvent;
use keytriage::tui::app::App;
use keytriage::tui::render;
use keytriage::tui::theme::Theme;
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use std::hint::black_box;
use std::time::Instant;

const ACCOUNTS: usize = 2_000;
const USERS_PER_ACCOUNT: usize = 25;
const KEYS_PER_USER: usize = 2;

fn now() -> Timestamp {
    Utc.with_ymd_and_hms(2026, 11, 29, 12, 0, 0)
        .single()
        .unwrap_or_default()
}

/// The synthetic organization as the events a scan would send.
fn events() -> Vec<ScanEvent> {
    let accounts: Vec<Account> = (0..ACCOUNTS)
        .map(|i| Account {
            id: AccountId::parse(&format!("{:012}", 100_000_000_000u64 + i as u64)).unwrap_or_else(|e| panic!("{e}")),
            name: format!("acct-{i:04}"),
            email: format!("a{i}@example.com"),
            state: AccountState::Active,
            ou_path: format!("/ou-{}", i % 7),
        })
        .collect();
    let mut out = vec![ScanEvent::Discovered {
        scan_id: keytriage::tui::store::Store::SCAN_ID,
        organization: None,
        accounts: accounts.clone(),
        warnings: vec![],
        missing: vec![],
    }];
    for (a, account) in accounts.into_iter().enumerate() {
        let users = (0..USERS_PER_ACCOUNT)
            .map(|u| {
                let seed = (a * USERS_PER_ACCOUNT + u) as i64;
                User {
                    name: format!("{}-{u:02}", if u % 3 == 0 { "ci-deploy" } else { "person" }),
                    arn: format!("arn:aws:iam::{}:user/u{u}", account.id),
                    path: "/".into(),
                    created: now() - Duration::days(100 + seed % 900),
                    password_enabled: u % 3 != 0,
                    password_last_used: (u % 2 == 0).then(|| now() - Duration::days(seed % 120)),
                    mfa_active: u % 4 == 0,
                    mfa_devices: vec![],
                    access_keys: (0..KEYS_PER_USER)
                        .map(|k| AccessKey {
                            id: AccessKeyId::from(format!("AKIA{:016}", seed * 2 + k as i64)),
                            status: if k == 1 && u % 5 == 0 {
                                KeyStatus::Inactive
                            } else {
                                KeyStatus::Active
                            },
                            created: now() - Duration::days((seed * 7 + k as i64 * 13) % 800),
                            last_used: (seed % 6 != 0).then(|| KeyLastUsed {
                                date: now() - Duration::days(seed % 90),
                                service: Some("s3".into()),
                                region: Some("eu-west-1".into()),
                            }),
                        })
                        .collect(),
                    credentials: vec![],
                }
            })
            .collect();
        let root = RootUser {
            access_keys_present: a % 50 == 0,
            mfa_enabled: true,
            mfa_kind: Some(MfaKind::Hardware),
            access_keys: vec![],
            signing_certificates: vec![],
        };
        out.push(ScanEvent::AccountDone {
            scan_id: keytriage::tui::store::Store::SCAN_ID,
            scan: Box::new(AccountScan::ok(account, root, users, vec![])),
        });
    }
    out
}

fn keys(app: &mut App, text: &str) {
    for c in text.chars() {
        let code = if c == '\n' { KeyCode::Enter } else { KeyCode::Char(c) };
        app.on_key(KeyEvent::from(code));
    }
    app.refresh();
}

fn resident_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let kib = |field: &str| {
        status
            .lines()
            .find(|l| l.starts_with(field))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    kib("VmRSS:") / 1024.0
}

fn bench(c: &mut Criterion) {
    let theme = Theme { no_color: false };
    let area = Rect::new(0, 0, 200, 50);

    let t = Instant::now();
    let app = App::new(
        Policy::default(),
        now(),
        "arn:aws:iam::100000000000:user/bench".into(),
        false,
    );
    let mut buf = Buffer::empty(area);
    render::render(&app, &theme, area, &mut buf);
    println!("first paint of an empty app: {:.2} ms", t.elapsed().as_secs_f64() * 1e3);

    let rss_before = resident_mib();
    let t = Instant::now();
    let mut app = App::new(
        Policy::default(),
        now(),
        "arn:aws:iam::100000000000:user/bench".into(),
        false,
    );
    for e in events() {
        app.on_scan_event(e);
    }
    app.refresh();
    println!(
        "load {ACCOUNTS} accounts as scan events and audit them: {:.0} ms",
        t.elapsed().as_secs_f64() * 1e3
    );
    println!("resident memory after loading: {:.0} MiB", resident_mib());
    let t = Instant::now();
    keys(&mut app, ":keys\n");
    println!(
        "build and sort the :keys view: {:.0} ms",
        t.elapsed().as_secs_f64() * 1e3
    );
    println!("rows in :keys: {}", app.view().table.counts().1);
    println!(
        "resident memory: {:.0} MiB (before loading: {rss_before:.0} MiB)",
        resident_mib()
    );

    c.bench_function("keys_frame_100k_200x50", |b| {
        b.iter(|| {
            let mut buf = Buffer::empty(area);
            render::render(black_box(&app), &theme, area, &mut buf);
            buf
        })
    });
    keys(&mut app, "/");
    let mut flip = false;
    c.bench_function("filter_keystroke_100k", |b| {
        b.iter(|| {
            flip = !flip;
            let code = if flip { KeyCode::Char('c') } else { KeyCode::Backspace };
            app.on_key(KeyEvent::from(code));
        })
    });
    println!("resident memory after filtering: {:.0} MiB", resident_mib());
    keys(&mut app, "\n");
    app.on_key(KeyEvent::from(KeyCode::Esc));
    c.bench_function("sort_change_100k", |b| {
        b.iter(|| app.on_key(KeyEvent::from(KeyCode::Char('s'))))
    });
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(20);
    targets = bench
}
criterion_main!(benches);
