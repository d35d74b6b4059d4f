//! Rotations in progress in the demo organization, as a scan of the emulated demo reads them.

mod common;

use keytriage::audit::Policy;
use keytriage::audit::rotation::{Verdict, in_progress};

// See: issue 12, the demo shows a rotation whose old key is still used and one whose old key
// went quiet.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_has_rotations_still_in_use_quiet_and_finished() {
    let demo = keytriage::emulator::Emulator::demo().unwrap();
    let org = keytriage::scan::run_to_end(
        common::context(&demo).await,
        std::sync::Arc::new(common::scan_options()),
        |_| {},
    )
    .await
    .unwrap();
    let now = chrono::Utc::now();
    let mut found: Vec<(String, String, Verdict)> = org
        .accounts
        .iter()
        .flat_map(|a| {
            a.users.iter().filter_map(move |u| {
                let r = in_progress(u, &Policy::default(), now)?;
                Some((a.account.name.clone(), u.name.clone(), r.verdict))
            })
        })
        .collect();
    found.sort();
    let row = |a: &str, u: &str, v| (a.to_owned(), u.to_owned(), v);
    assert_eq!(
        found,
        [
            row("acme-dev", "paula.dev", Verdict::StillUsed),
            row("acme-prod-payments", "payments-reconciler", Verdict::OldInactive),
            row("acme-prod-web", "jenkins", Verdict::StillUsed),
            row("acme-staging", "search-indexer", Verdict::Quiet),
        ]
    );
}

// See: issue 12, plans across demo restarts: the emulator's `clock` pins what ages count from.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_scenario_clock_pins_the_seeded_times_and_a_bad_one_is_refused() {
    use serde_json::json;
    let scenario = |clock: serde_json::Value| {
        json!({
            "organization": false,
            "clock": clock,
            "accounts": [{"name": "mgmt", "management": true, "users": [
                {"name": "ci", "keys": [{"age_days": 10, "status": "Active",
                                          "last_used": {"days_ago": 2, "service": "s3", "region": "eu-west-1"}}]}
            ]}]
        })
    };
    let emu = common::emulator(&scenario(json!("2026-11-30T00:00:00Z")));
    let org = common::scan(&emu).await;
    let key = &org.accounts[0].users[0].access_keys[0];
    let at = |d: &str| {
        chrono::DateTime::parse_from_rfc3339(d)
            .unwrap()
            .with_timezone(&chrono::Utc)
    };
    assert_eq!(key.created, at("2026-11-20T00:00:00Z"));
    assert_eq!(key.last_used.as_ref().unwrap().date, at("2026-11-28T00:00:00Z"));

    let err = keytriage::emulator::Emulator::start(
        &scenario(json!("yesterday")).to_string(),
        std::time::Duration::from_secs(60),
    )
    .err()
    .expect("a bad clock is refused");
    assert!(
        err.to_string()
            .contains(r#"clock: expected "utc-day" or a time like "2026-12-01T00:00:00Z", got 'yesterday'"#),
        "{err}"
    );
}
