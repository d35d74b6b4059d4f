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
