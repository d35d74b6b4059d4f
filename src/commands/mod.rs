//! The commands the binary dispatches to, one module each: each turns
//! [`Settings`](crate::settings::Settings) and its own flags into library calls and an exit
//! code, so `main.rs` only parses and dispatches. [`scan`] is the headless scan, [`write`] the
//! headless writes on one access key, [`plan`] and [`apply`] the reviewable bulk writes,
//! [`history`] lists recorded scans (and records each scan), [`diff`] compares two scans,
//! [`generate`] writes the shell completions and the man page.

pub mod apply;
pub mod diff;
pub mod generate;
pub mod history;
pub mod plan;
pub mod scan;
pub mod write;

use crate::aws::RoleOptions;
use crate::scan::ScanOptions;
use crate::settings::Settings;

/// The scan options the settings ask for (audit role, account selection, concurrency); the
/// same for the TUI and the headless scan.
pub fn scan_options(s: &Settings) -> ScanOptions {
    let mut o = ScanOptions::new(RoleOptions {
        role_name: s.role_name.clone(),
        external_id: s.external_id.clone(),
        session_length: None,
    });
    o.only = s.accounts.clone();
    o.exclude = s.exclude_accounts.clone();
    o.account_concurrency = s.concurrency;
    o.user_concurrency = s.user_concurrency;
    o.kinds = s.credentials.clone();
    o
}
