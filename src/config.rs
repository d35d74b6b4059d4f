//! The TOML configuration file: where it lives and how it is read into typed values.
//!
//! The file lives at the platform config path (`directories`:
//! `~/.config/keytriage/config.toml` on Linux) or at `--config PATH`. Unknown keys, wrong
//! types, negative numbers, bad account ids and severities are errors that name the file,
//! line and column. This module only reads the file; [`crate::settings`] merges it with the
//! flags and decides defaults. It must not look at flags or the environment.

use crate::audit::Severity;
use crate::aws::credentials::CredentialKinds;
use crate::model::AccountId;
use serde::{Deserialize, Deserializer};
use std::num::NonZeroU16;
use std::path::{Path, PathBuf};

/// The file's contents, already typed: an account id that is not 12 digits, an unknown
/// severity or a zero concurrency fails to deserialise, so toml's error names its line and
/// column. Every key is optional; [`crate::settings::Settings::resolve`] lays the flags over it.
#[derive(Clone, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    /// AWS profile from `~/.aws/config`, as `--profile`.
    pub profile: Option<String>,
    /// AWS region, as `--region`.
    pub region: Option<String>,
    /// Endpoint override for every AWS call (e.g. a moto server), as `--endpoint-url`.
    pub endpoint_url: Option<String>,
    /// The audit role's name in member accounts, as `--role-name`.
    pub role_name: Option<String>,
    /// The external id the audit role's trust policy requires, as `--external-id`.
    pub external_id: Option<String>,
    /// A role for write calls (remediation), as `--remediation-role`; reads keep the audit role.
    pub remediation_role: Option<String>,
    /// Scan only these accounts, as `--accounts`.
    pub accounts: Option<Vec<AccountId>>,
    /// Never scan these accounts, as `--exclude-accounts`.
    pub exclude_accounts: Option<Vec<AccountId>>,
    /// Accounts scanned at once, as `--concurrency`.
    #[serde(default, deserialize_with = "at_least_one")]
    pub concurrency: Option<NonZeroU16>,
    /// Users read at once within one account (no flag).
    #[serde(default, deserialize_with = "at_least_one")]
    pub user_concurrency: Option<NonZeroU16>,
    /// `key-not-rotated` threshold in whole days, as `--rotation-days`.
    pub rotation_days: Option<u32>,
    /// `key-unused` / `password-unused` threshold in whole days, as `--unused-days`.
    pub unused_days: Option<u32>,
    /// `stale-user` threshold in whole days, as `--stale-user-days`.
    pub stale_user_days: Option<u32>,
    /// `certificate-expiring` window in whole days, as `--expiry-warning-days`.
    pub expiry_warning_days: Option<u32>,
    /// `role-unused` threshold in whole days, as `--unused-role-days`.
    pub unused_role_days: Option<u32>,
    /// Credential kinds to read, as `--credentials`: a list such as
    /// `["access_key", "ssh_public_key"]`, or `["all"]`.
    #[serde(default, deserialize_with = "credential_kinds")]
    pub credentials: Option<CredentialKinds>,
    /// The default of `scan --fail-on`.
    pub fail_on: Option<Severity>,
    /// The scan history database, as `--history`.
    pub history: Option<PathBuf>,
    /// The exceptions file, as `--exceptions`.
    pub exceptions: Option<PathBuf>,
    /// The longest an exception may run, in days after the file is read (no flag).
    pub exception_max_days: Option<u32>,
    /// `apply` refuses a plan older than this many hours, as `--max-plan-age-hours`.
    pub max_plan_age_hours: Option<u32>,
}

/// A list of credential kinds ([`CredentialKinds::parse_list`]); an unknown kind is refused
/// with a message naming it.
fn credential_kinds<'de, D: Deserializer<'de>>(d: D) -> Result<Option<CredentialKinds>, D::Error> {
    let names = Vec::<String>::deserialize(d)?;
    CredentialKinds::parse_list(&names)
        .map(Some)
        .map_err(serde::de::Error::custom)
}

/// A concurrency: a positive integer; 0 is refused with a message that says so.
fn at_least_one<'de, D: Deserializer<'de>>(d: D) -> Result<Option<NonZeroU16>, D::Error> {
    let n = u16::deserialize(d)?;
    NonZeroU16::new(n)
        .map(Some)
        .ok_or_else(|| serde::de::Error::custom("concurrency must be at least 1"))
}

/// A configuration file that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file named by `--config` cannot be read.
    #[error("cannot read config file {path}")]
    Read {
        /// The file as named.
        path: PathBuf,
        /// The I/O error (not found, permission denied…).
        #[source]
        source: std::io::Error,
    },
    /// The file is not valid TOML, has an unknown key, a wrong type or an unacceptable value
    /// (account id, severity, zero concurrency).
    #[error("config file {path}: {message}")]
    Parse {
        /// The file as named.
        path: PathBuf,
        /// toml's message: line, column, the offending excerpt and what is wrong.
        message: String,
    },
}

/// The default config path (`<config dir>/config.toml`), if the platform has one.
pub fn default_path() -> Option<PathBuf> {
    directories::ProjectDirs::from("", "", "keytriage").map(|d| d.config_dir().join("config.toml"))
}

/// Loads `explicit` (which must exist) or else the default path (which may be absent).
///
/// # Errors
/// [`ConfigError`] naming the file; an absent default file is not an error.
pub fn load(explicit: Option<&Path>) -> Result<FileConfig, ConfigError> {
    let path = match explicit {
        Some(p) => p.to_path_buf(),
        None => match default_path() {
            Some(p) if p.exists() => p,
            _ => return Ok(FileConfig::default()),
        },
    };
    let text = std::fs::read_to_string(&path).map_err(|source| ConfigError::Read {
        path: path.clone(),
        source,
    })?;
    parse(&text, &path)
}

/// Parses a config text into typed values; `path` only names the file in errors.
///
/// # Errors
/// [`ConfigError::Parse`] for syntax, an unknown key, a wrong type or a bad value (account
/// id, severity, zero concurrency), each with line and column.
pub fn parse(text: &str, path: &Path) -> Result<FileConfig, ConfigError> {
    toml::from_str(text).map_err(|e| ConfigError::Parse {
        path: path.to_path_buf(),
        message: e.to_string().trim_end().to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(text: &str) -> String {
        parse(text, Path::new("/etc/kt.toml")).unwrap_err().to_string()
    }

    #[test]
    fn example_config_parses() {
        let cfg = parse(include_str!("../assets/keytriage.example.toml"), Path::new("x")).unwrap();
        assert_eq!(cfg.rotation_days, Some(90));
        assert_eq!(cfg.role_name.as_deref(), Some("OrganizationAccountAccessRole"));
        assert_eq!(cfg.exception_max_days, Some(365));
    }

    #[test]
    fn unknown_key_names_line_and_column() {
        let e = err("rotation_days = 90\nrotaton_days = 30\n");
        assert!(
            e.starts_with("config file /etc/kt.toml: TOML parse error at line 2, column 1"),
            "{e}"
        );
        assert!(e.contains("unknown field `rotaton_days`"), "{e}");
    }

    #[test]
    fn negative_threshold_is_rejected() {
        let e = err("unused_days = -5\n");
        assert!(e.contains("line 1, column 15"), "{e}");
    }

    #[test]
    fn wrong_type_and_malformed() {
        assert!(err("concurrency = \"lots\"\n").contains("line 1"));
        assert!(err("role_name = \n").contains("line 1"));
    }

    #[test]
    fn bad_values_name_line_and_column() {
        let e = err("rotation_days = 90\naccounts = [\"111111111111\", \"12\"]\n");
        assert!(
            e.starts_with("config file /etc/kt.toml: TOML parse error at line 2, column 12"),
            "{e}"
        );
        assert!(e.contains("account id '12' is not 12 digits"), "{e}");
        let e = err("exclude_accounts = [\"x\"]");
        assert!(e.contains("line 1, column 20"), "{e}");
        assert!(e.contains("account id 'x' is not 12 digits"), "{e}");
        let e = err("fail_on = \"severe\"");
        assert!(e.contains("line 1, column 11"), "{e}");
        assert!(e.contains("severity 'severe' is unrecognized"), "{e}");
        let e = err("concurrency = 0");
        assert!(e.contains("line 1, column 15"), "{e}");
        assert!(e.contains("concurrency must be at least 1"), "{e}");
        assert!(err("user_concurrency = 0").contains("at least 1"));
    }

    #[test]
    fn values_arrive_typed() {
        let cfg = parse(
            "accounts = [\"111111111111\"]\nfail_on = \"HIGH\"\nconcurrency = 3\n",
            Path::new("x"),
        )
        .unwrap();
        assert_eq!(cfg.accounts, Some(vec![AccountId::parse("111111111111").unwrap()]));
        assert_eq!(cfg.fail_on, Some(Severity::High));
        assert_eq!(cfg.concurrency, NonZeroU16::new(3));
    }
}
