//! The commands the binary dispatches to: each turns [`Settings`](crate::cli::Settings) and
//! its own flags into library calls and an exit code, so `main.rs` only parses and
//! dispatches. [`scan`] is the headless scan; [`generate`] writes the shell completions
//! and the man page.

pub mod generate;
pub mod scan;

use crate::aws::RoleOptions;
use crate::cli::Settings;
use crate::scan::ScanOptions;

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
    o
}
