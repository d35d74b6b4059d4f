//! Settings: the flags ([`crate::cli::GlobalArgs`]) laid over the config file
//! ([`crate::config::FileConfig`]) laid over the defaults, into one typed [`Settings`].
//!
//! This is the one place that turns what the user said into what to do: both front ends (the
//! TUI and the headless commands) read [`Settings`], never the flags or the file. Values
//! arrive already validated (account ids, severities, concurrency ≥ 1), so nothing here
//! re-parses text. It must not talk to AWS or print.

use crate::audit::{Policy, Severity};
use crate::aws::credentials::CredentialKinds;
use crate::cli::GlobalArgs;
use crate::config::{self, ConfigError, FileConfig};
use crate::model::AccountId;
use crate::{exceptions, history};
use std::path::PathBuf;

/// The default audit role: the role AWS Organizations creates in every member account.
pub const DEFAULT_ROLE: &str = "OrganizationAccountAccessRole";

/// Accounts scanned at once, and users read at once within one account, when neither a flag
/// nor the file says.
pub const DEFAULT_CONCURRENCY: usize = 8;

/// What to do, merged from flags over the config file over the defaults.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// AWS profile for the caller's credentials; `None`: the standard credential chain.
    pub profile: Option<String>,
    /// AWS region; `None`: the SDK's (IAM and Organizations are global).
    pub region: Option<String>,
    /// Endpoint override for every AWS call (an emulator); `None`: the real AWS endpoints.
    pub endpoint_url: Option<String>,
    /// The audit role assumed in member accounts; default [`DEFAULT_ROLE`].
    pub role_name: String,
    /// The external id the audit role's trust policy requires, if any.
    pub external_id: Option<String>,
    /// The role write calls go through; `None`: writes use the audit role.
    pub remediation_role: Option<String>,
    /// Scan only these accounts; empty: every account of the organization.
    pub accounts: Vec<AccountId>,
    /// Never scan these accounts.
    pub exclude_accounts: Vec<AccountId>,
    /// Accounts scanned at once, at least 1; default [`DEFAULT_CONCURRENCY`].
    pub concurrency: usize,
    /// Users read at once within one account, at least 1 (config file only); default
    /// [`DEFAULT_CONCURRENCY`].
    pub user_concurrency: usize,
    /// Rule thresholds in whole days; defaults from [`Policy::default`].
    pub policy: Policy,
    /// The config file's default for `scan --fail-on` (the flag, when given, wins in `scan`).
    pub fail_on: Option<Severity>,
    /// The scan history database; `None`: history off (`--no-history`, or no data dir).
    pub history: Option<PathBuf>,
    /// The exceptions file named by `--exceptions` or the config; `None`: the default path
    /// if it exists (see [`crate::exceptions::load`]).
    pub exceptions: Option<PathBuf>,
    /// The longest an exception may run, in days; default [`exceptions::DEFAULT_MAX_DAYS`].
    pub exception_max_days: u32,
    /// `apply` refuses a plan whose scan is older than this many hours (flag
    /// `--max-plan-age-hours`, config `max_plan_age_hours`); default 24.
    pub max_plan_age_hours: u32,
    /// The credential kinds read (`--credentials`, config `credentials`); default all.
    pub credentials: CredentialKinds,
}

impl Settings {
    /// Reads the config file (`--config PATH`, else the default path if it exists) and lays
    /// the flags over it.
    ///
    /// # Errors
    /// [`ConfigError`] naming the file (and line and column for a bad value).
    pub fn load(flags: &GlobalArgs) -> Result<Self, ConfigError> {
        let file = config::load(flags.config.as_deref())?;
        Ok(Self::resolve(flags, &file))
    }

    /// Merges flags over the file over the defaults. Pure: both inputs are already typed.
    /// A non-empty `--accounts` replaces the file's list (it does not add to it).
    pub fn resolve(flags: &GlobalArgs, file: &FileConfig) -> Self {
        let ids = |flag: &Vec<AccountId>, file: &Option<Vec<AccountId>>| -> Vec<AccountId> {
            if flag.is_empty() {
                file.clone().unwrap_or_default()
            } else {
                flag.clone()
            }
        };
        let pick = |flag: &Option<String>, file: &Option<String>| flag.clone().or_else(|| file.clone());
        let defaults = Policy::default();
        Self {
            profile: pick(&flags.profile, &file.profile),
            region: pick(&flags.region, &file.region),
            endpoint_url: pick(&flags.endpoint_url, &file.endpoint_url),
            role_name: pick(&flags.role_name, &file.role_name).unwrap_or_else(|| DEFAULT_ROLE.into()),
            external_id: pick(&flags.external_id, &file.external_id),
            remediation_role: pick(&flags.remediation_role, &file.remediation_role),
            accounts: ids(&flags.accounts, &file.accounts),
            exclude_accounts: ids(&flags.exclude_accounts, &file.exclude_accounts),
            concurrency: flags
                .concurrency
                .or(file.concurrency.map(u16::from))
                .map_or(DEFAULT_CONCURRENCY, usize::from),
            user_concurrency: file
                .user_concurrency
                .map_or(DEFAULT_CONCURRENCY, |n| usize::from(n.get())),
            policy: Policy {
                rotation_days: flags
                    .rotation_days
                    .or(file.rotation_days)
                    .unwrap_or(defaults.rotation_days),
                unused_days: flags.unused_days.or(file.unused_days).unwrap_or(defaults.unused_days),
                stale_user_days: flags
                    .stale_user_days
                    .or(file.stale_user_days)
                    .unwrap_or(defaults.stale_user_days),
                expiry_warning_days: flags
                    .expiry_warning_days
                    .or(file.expiry_warning_days)
                    .unwrap_or(defaults.expiry_warning_days),
                unused_role_days: flags
                    .unused_role_days
                    .or(file.unused_role_days)
                    .unwrap_or(defaults.unused_role_days),
            },
            fail_on: file.fail_on,
            history: if flags.no_history {
                None
            } else {
                flags
                    .history
                    .clone()
                    .or_else(|| file.history.clone())
                    .or_else(history::default_path)
            },
            exceptions: flags.exceptions.clone().or_else(|| file.exceptions.clone()),
            exception_max_days: file.exception_max_days.unwrap_or(exceptions::DEFAULT_MAX_DAYS),
            max_plan_age_hours: flags
                .max_plan_age_hours
                .or(file.max_plan_age_hours)
                .unwrap_or(crate::remediate::plan::DEFAULT_MAX_AGE_HOURS),
            credentials: flags
                .credentials
                .clone()
                .or_else(|| file.credentials.clone())
                .unwrap_or_default(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::Cli;
    use clap::Parser;
    use std::path::Path;

    fn id(s: &str) -> AccountId {
        AccountId::parse(s).unwrap()
    }

    #[test]
    fn flags_override_file_over_defaults() {
        let cli = Cli::try_parse_from(["keytriage", "--rotation-days", "30", "scan"]).unwrap();
        let file = FileConfig {
            rotation_days: Some(60),
            unused_days: Some(20),
            ..Default::default()
        };
        let s = Settings::resolve(&cli.global, &file);
        assert_eq!(
            s.policy,
            Policy {
                rotation_days: 30,
                unused_days: 20,
                stale_user_days: 90,
                expiry_warning_days: 30,
                unused_role_days: 90
            }
        );
        assert_eq!(s.role_name, DEFAULT_ROLE);
        assert_eq!((s.concurrency, s.user_concurrency), (8, 8));
    }

    #[test]
    fn the_files_typed_values_arrive_in_settings() {
        let file = config::parse(
            "accounts = [\"111111111111\"]\nexclude_accounts = [\"222222222222\"]\n\
             fail_on = \"high\"\nconcurrency = 3\nuser_concurrency = 2\nrole_name = \"Audit\"\n",
            Path::new("x"),
        )
        .unwrap();
        let s = Settings::resolve(&GlobalArgs::default(), &file);
        assert_eq!(s.accounts, vec![id("111111111111")]);
        assert_eq!(s.exclude_accounts, vec![id("222222222222")]);
        assert_eq!(s.fail_on, Some(Severity::High));
        assert_eq!((s.concurrency, s.user_concurrency), (3, 2));
        assert_eq!(s.role_name, "Audit");
        assert_eq!(s.max_plan_age_hours, 24, "the default");
        assert_eq!(s.credentials, CredentialKinds::default());
    }

    #[test]
    fn max_plan_age_comes_from_the_flag_over_the_file() {
        let file = config::parse("max_plan_age_hours = 48\n", Path::new("x")).unwrap();
        assert_eq!(Settings::resolve(&GlobalArgs::default(), &file).max_plan_age_hours, 48);
        let cli = Cli::try_parse_from(["keytriage", "--max-plan-age-hours", "2", "apply", "p.json"]).unwrap();
        assert_eq!(Settings::resolve(&cli.global, &file).max_plan_age_hours, 2);
    }

    #[test]
    fn history_and_exceptions_paths() {
        let file = config::parse(
            "history = \"/f/h.db\"\nexceptions = \"/f/e.toml\"\nexception_max_days = 30\n",
            Path::new("x"),
        )
        .unwrap();
        let s = Settings::resolve(&GlobalArgs::default(), &file);
        assert_eq!(s.history.as_deref(), Some(Path::new("/f/h.db")));
        assert_eq!(s.exceptions.as_deref(), Some(Path::new("/f/e.toml")));
        assert_eq!(s.exception_max_days, 30);
        let cli = Cli::try_parse_from(["keytriage", "--history", "/c/h.db", "--exceptions", "/c/e.toml"]).unwrap();
        let s = Settings::resolve(&cli.global, &file);
        assert_eq!(s.history.as_deref(), Some(Path::new("/c/h.db")));
        assert_eq!(s.exceptions.as_deref(), Some(Path::new("/c/e.toml")));
        let cli = Cli::try_parse_from(["keytriage", "--no-history", "history"]).unwrap();
        assert_eq!(Settings::resolve(&cli.global, &file).history, None);
        let s = Settings::resolve(&GlobalArgs::default(), &FileConfig::default());
        assert_eq!(s.history, history::default_path());
        assert_eq!((s.exceptions, s.exception_max_days), (None, 365));
    }

    #[test]
    fn credential_kinds_flag_over_file() {
        let file = config::parse(
            "credentials = [\"ssh_public_key\"]\nexpiry_warning_days = 7\n",
            Path::new("x"),
        )
        .unwrap();
        let s = Settings::resolve(&GlobalArgs::default(), &file);
        assert_eq!(s.credentials, CredentialKinds::parse_list(&["ssh_public_key"]).unwrap());
        assert!(!s.credentials.access_keys);
        assert_eq!(s.policy.expiry_warning_days, 7);
        let cli = Cli::try_parse_from(["keytriage", "--credentials", "access_key,service_specific", "scan"]).unwrap();
        let s = Settings::resolve(&cli.global, &file);
        assert!(s.credentials.access_keys);
        assert!(s.credentials.reads(crate::model::CredentialKind::ServiceSpecific));
        assert!(!s.credentials.reads(crate::model::CredentialKind::SshPublicKey));
        let e = config::parse("credentials = [\"ssh\"]\n", Path::new("x"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("credential kind 'ssh' is unknown"), "{e}");
        let e = Cli::try_parse_from(["keytriage", "--credentials", "keys", "scan"])
            .unwrap_err()
            .to_string();
        assert!(e.contains("credential kind 'keys' is unknown"), "{e}");
    }

    #[test]
    fn account_flags_replace_the_files_list() {
        let cli = Cli::try_parse_from(["keytriage", "--accounts", "333333333333", "--concurrency", "5"]).unwrap();
        let file = FileConfig {
            accounts: Some(vec![id("111111111111")]),
            exclude_accounts: Some(vec![id("222222222222")]),
            concurrency: std::num::NonZeroU16::new(3),
            ..Default::default()
        };
        let s = Settings::resolve(&cli.global, &file);
        assert_eq!(s.accounts, vec![id("333333333333")]);
        assert_eq!(s.exclude_accounts, vec![id("222222222222")]);
        assert_eq!(s.concurrency, 5);
    }
}
