//! The log file: `<data dir>/keytriage.log`, private (0600 in a 0700 folder), never the
//! terminal. `RUST_LOG` sets the levels, except that no other crate than keytriage may log
//! below INFO whatever `RUST_LOG` says: the AWS SDK's HTTP layer at DEBUG/TRACE logs request
//! and response bodies when `LOG_SENSITIVE_BODIES=true`, and `CreateAccessKey`'s response
//! body holds the new secret.

use std::path::{Path, PathBuf};
use tracing::Metadata;
use tracing_subscriber::Layer as _;
use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::util::SubscriberInitExt as _;

/// The log file's name inside the data dir.
pub const FILE_NAME: &str = "keytriage.log";

/// `<data dir>` (`~/.local/share/keytriage` on Linux); `None` without a home directory.
pub fn default_dir() -> Option<PathBuf> {
    directories::ProjectDirs::from("", "", "keytriage").map(|d| d.data_local_dir().to_path_buf())
}

/// True when an event or span may be logged at all: keytriage's own at any level, every
/// other crate's (the AWS SDK, hyper, rustls…) at INFO or above only.
pub fn allowed(meta: &Metadata<'_>) -> bool {
    let target = meta.target();
    let ours = target == "keytriage" || target.starts_with("keytriage::");
    ours || *meta.level() <= tracing::Level::INFO
}

/// Installs the global subscriber writing to `<dir>/keytriage.log`. The folder is created
/// 0700 and the file 0600; an existing looser folder or file is tightened, with a notice on
/// stderr. Levels: `RUST_LOG` (default `keytriage=info`), capped by [`allowed`].
///
/// # Errors
/// The folder or file cannot be created or its mode set, or a global subscriber is already
/// installed.
pub fn init(dir: &Path) -> std::io::Result<tracing_appender::non_blocking::WorkerGuard> {
    let file = open_private(dir)?;
    let (writer, guard) = tracing_appender::non_blocking(file);
    let env = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("keytriage=info"));
    let layer = tracing_subscriber::fmt::layer()
        .with_writer(writer)
        .with_ansi(false)
        .with_filter(env)
        .with_filter(tracing_subscriber::filter::filter_fn(allowed));
    tracing_subscriber::registry()
        .with(layer)
        .try_init()
        .map_err(std::io::Error::other)?;
    Ok(guard)
}

/// Opens `<dir>/keytriage.log` for appending, making the folder 0700 and the file 0600.
fn open_private(dir: &Path) -> std::io::Result<std::fs::File> {
    use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
    std::fs::DirBuilder::new().recursive(true).mode(0o700).create(dir)?;
    tighten(dir, 0o700, "folder")?;
    let path = dir.join(FILE_NAME);
    let file = std::fs::OpenOptions::new()
        .append(true)
        .create(true)
        .mode(0o600)
        .open(&path)?;
    tighten(&path, 0o600, "log file")?;
    Ok(file)
}

/// Sets `path`'s mode to `mode` when it differs, saying so on stderr.
fn tighten(path: &Path, mode: u32, what: &str) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let was = std::fs::metadata(path)?.permissions().mode() & 0o777;
    if was != mode {
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))?;
        eprintln!(
            "keytriage: the {what} {} was mode {was:o}; it is now {mode:o} (it holds account ids, ARNs and key ids)",
            path.display()
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn mode(p: &Path) -> u32 {
        std::fs::metadata(p).unwrap().permissions().mode() & 0o777
    }

    #[test]
    fn a_new_log_is_0600_in_a_0700_folder() {
        let base = tempfile::tempdir().unwrap();
        let dir = base.path().join("share/keytriage");
        open_private(&dir).unwrap();
        assert_eq!((mode(&dir), mode(&dir.join(FILE_NAME))), (0o700, 0o600));
    }

    #[test]
    fn an_existing_loose_log_is_tightened() {
        let base = tempfile::tempdir().unwrap();
        let dir = base.path().join("keytriage");
        std::fs::create_dir(&dir).unwrap();
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
        let log = dir.join(FILE_NAME);
        std::fs::write(&log, "old line\n").unwrap();
        std::fs::set_permissions(&log, std::fs::Permissions::from_mode(0o644)).unwrap();
        open_private(&dir).unwrap();
        assert_eq!((mode(&dir), mode(&log)), (0o700, 0o600));
        assert_eq!(
            std::fs::read_to_string(&log).unwrap(),
            "old line\n",
            "appended, not truncated"
        );
    }
}
