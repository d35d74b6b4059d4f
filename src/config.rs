//! The TOML configuration file and its merge with command-line flags.
//!
//! The file lives at the platform config path (`directories`:
//! `~/.config/keytriage/config.toml` on Linux) or at `--config PATH`. Unknown keys, wrong
//! types and negative numbers are errors that name the file, line and column. Flags override
//! the file; the file overrides the defaults.

use crate::audit::Severity;
use crate::model::AccountId;
use serde::Deserialize;
use std::path::{Path, PathBuf};

/// The file's contents. Every key is optional.
#[derive(Clone, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    /// AWS profile.
    pub profile: Option<String>,
    /// AWS region.
    pub region: Option<String>,
    /// Endpoint override (e.g. a moto server).
    pub endpoint_url: Option<String>,
    /// Audit role name in member accounts.
    pub role_name: Option<String>,
    /// External id for the audit role.
    pub external_id: Option<String>,
    /// Role for write calls (remediation); reads keep the audit role.
    pub remediation_role: Option<String>,
    /// Only these accounts.
    pub accounts: Option<Vec<String>>,
    /// Never these accounts.
    pub exclude_accounts: Option<Vec<String>>,
    /// Accounts scanned at once.
    pub concurrency: Option<u16>,
    /// Users read at once within an account.
    pub user_concurrency: Option<u16>,
    /// `key-not-rotated` threshold, days.
    pub rotation_days: Option<u32>,
    /// `key-unused` / `password-unused` threshold, days.
    pub unused_days: Option<u32>,
    /// `stale-user` threshold, days.
    pub stale_user_days: Option<u32>,
    /// Default `--fail-on` severity for `scan`.
    pub fail_on: Option<String>,
}

/// A configuration that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file named by `--config` cannot be read.
    #[error("cannot read config file {path}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The file is not valid TOML, or has an unknown key or a wrong type. The message names
    /// line and column.
    #[error("config file {path}: {message}")]
    Parse {
        /// The file.
        path: PathBuf,
        /// toml's message, with line, column and the offending excerpt.
        message: String,
    },
    /// A value has the right type but is not acceptable.
    #[error("config file {path}: {message}")]
    Invalid {
        /// The file.
        path: PathBuf,
        /// What is wrong.
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

/// Parses and validates a config text; `path` only names the file in errors.
///
/// # Errors
/// [`ConfigError::Parse`] (syntax, unknown key, wrong type, with line and column) or
/// [`ConfigError::Invalid`] (bad account id, severity, zero concurrency).
pub fn parse(text: &str, path: &Path) -> Result<FileConfig, ConfigError> {
    let cfg: FileConfig = toml::from_str(text).map_err(|e| ConfigError::Parse {
        path: path.to_path_buf(),
        message: e.to_string().trim_end().to_owned(),
    })?;
    let invalid = |message: String| ConfigError::Invalid {
        path: path.to_path_buf(),
        message,
    };
    for id in cfg.accounts.iter().chain(&cfg.exclude_accounts).flatten() {
        AccountId::parse(id).map_err(|e| invalid(format!("accounts: {e}")))?;
    }
    if let Some(s) = &cfg.fail_on {
        s.parse::<Severity>().map_err(|e| invalid(format!("fail_on: {e}")))?;
    }
    if cfg.concurrency == Some(0) || cfg.user_concurrency == Some(0) {
        return Err(invalid("concurrency must be at least 1".into()));
    }
    Ok(cfg)
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
    fn bad_values() {
        assert_eq!(
            err("accounts = [\"12\"]"),
            "config file /etc/kt.toml: accounts: account id '12' is not 12 digits"
        );
        assert!(err("fail_on = \"severe\"").contains("severity 'severe' is unrecognized"));
        assert!(err("concurrency = 0").contains("at least 1"));
    }
}
