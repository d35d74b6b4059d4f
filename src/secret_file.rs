//! Where a new secret access key may rest: the credentials file the operator saves it to, and
//! the process's own memory (no core dump while a write session runs).

use crate::aws::remediate::NewKey;
use crate::model::AccessKeyId;
use std::io::Write;
use std::path::{Path, PathBuf};

/// `<data dir>/credentials` (`~/.local/share/keytriage/credentials` on Linux), the folder the
/// secret dialog proposes: private (0700), and outside the working directory, which is often a
/// git checkout. `None` without a home directory.
pub fn credentials_dir() -> Option<PathBuf> {
    directories::ProjectDirs::from("", "", "keytriage").map(|d| d.data_local_dir().join("credentials"))
}

/// The path the secret dialog proposes for a new key of `user`:
/// `<credentials dir>/<user>-<key id>` (the folder says what it is; a short path fits the
/// dialog), or `./<user>-<key id>.credentials`
/// without a home directory.
pub fn default_path(user: &str, key: &AccessKeyId) -> PathBuf {
    default_path_in(credentials_dir().as_deref(), user, key)
}

/// [`default_path`] as the dialog shows it: with the home directory written `~` (the TUI
/// expands a leading `~/` when saving).
pub fn default_path_text(user: &str, key: &AccessKeyId) -> String {
    let path = default_path(user, key);
    let home = directories::BaseDirs::new().map(|b| b.home_dir().to_path_buf());
    match home.as_deref().and_then(|h| path.strip_prefix(h).ok()) {
        Some(rest) => format!("~/{}", rest.display()),
        None => path.display().to_string(),
    }
}

fn default_path_in(dir: Option<&Path>, user: &str, key: &AccessKeyId) -> PathBuf {
    let name = format!("{user}-{key}");
    match dir {
        Some(dir) => dir.join(name),
        None => Path::new(".").join(format!("{name}.credentials")),
    }
}

/// Writes a new key to `path` in the AWS credentials-file format under `[profile]`, with mode
/// 0600, refusing to overwrite an existing file (`O_EXCL`). The file and then its directory
/// are synced before this returns, so "saved" survives a crash. When the parent is the
/// [`credentials_dir`], it is created 0700 if absent. On any error after the file was created,
/// the file is removed: no truncated secret stays behind and a retry at the same path works.
///
/// # Errors
/// The file exists (`AlreadyExists`), or it or its directory cannot be created, written or
/// synced.
pub fn write_secret_file(path: &Path, profile: &str, key: &NewKey) -> std::io::Result<()> {
    if let Some(dir) = credentials_dir()
        && path.parent() == Some(dir.as_path())
    {
        private_dir(&dir)?;
    }
    write_with(path, profile, key, |file, bytes| file.write_all(bytes))
}

/// [`write_secret_file`] with the write of the text injectable (tests make it fail halfway).
fn write_with(
    path: &Path,
    profile: &str,
    key: &NewKey,
    write: impl FnOnce(&mut std::fs::File, &[u8]) -> std::io::Result<()>,
) -> std::io::Result<()> {
    use secrecy::ExposeSecret;
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?;
    // Reserved up front so the text holding the secret is never reallocated (a reallocation
    // would leave a copy behind that Zeroizing cannot wipe).
    let secret = key.secret.expose_secret();
    let mut text = zeroize::Zeroizing::new(String::with_capacity(profile.len() + secret.len() + 128));
    text.push_str(&format!("[{profile}]\naws_access_key_id = {}\n", key.id));
    text.push_str("aws_secret_access_key = ");
    text.push_str(secret);
    text.push('\n');
    let result = write(&mut file, text.as_bytes())
        .and_then(|()| file.sync_all())
        .and_then(|()| sync_dir(path));
    if result.is_err() {
        drop(file);
        let _ = std::fs::remove_file(path);
    }
    result
}

/// Syncs the directory holding `path`, so its new entry is on disk.
fn sync_dir(path: &Path) -> std::io::Result<()> {
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    std::fs::File::open(dir)?.sync_all()
}

/// Creates `dir` (and its parents) with mode 0700, or tightens it to 0700.
fn private_dir(dir: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
    std::fs::DirBuilder::new().recursive(true).mode(0o700).create(dir)?;
    let mode = std::fs::metadata(dir)?.permissions().mode() & 0o777;
    if mode != 0o700 {
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))?;
    }
    Ok(())
}

/// Keeps the secrets held in memory out of core dumps and away from other processes of the
/// same user: sets `RLIMIT_CORE` to 0 (soft and hard) and, on Linux, marks the process not
/// dumpable (`PR_SET_DUMPABLE` 0, which also stops same-user `ptrace` and `/proc/<pid>/mem`
/// reads). Called at the start of a write-mode session, before any key is created; it lasts
/// for the rest of the process.
///
/// # Errors
/// The kernel refused either setting.
pub fn disable_core_dumps() -> std::io::Result<()> {
    use rustix::process::{Resource, Rlimit, setrlimit};
    setrlimit(
        Resource::Core,
        Rlimit {
            current: Some(0),
            maximum: Some(0),
        },
    )?;
    #[cfg(target_os = "linux")]
    rustix::process::set_dumpable_behavior(rustix::process::DumpableBehavior::NotDumpable)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use secrecy::ExposeSecret;
    use std::os::unix::fs::PermissionsExt;

    fn key() -> NewKey {
        NewKey {
            id: AccessKeyId("AKIAEXAMPLENEWKEY001".into()),
            created: chrono::Utc::now(),
            secret: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY".to_owned().into(),
            request_id: None,
        }
    }

    #[test]
    fn a_failed_write_leaves_no_file_and_a_retry_works() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ci.credentials");
        let k = key();
        let err = write_with(&path, "ci", &k, |file, bytes| {
            file.write_all(&bytes[..bytes.len() / 2])?;
            Err(std::io::Error::other("disk full"))
        })
        .unwrap_err();
        assert_eq!(err.to_string(), "disk full");
        assert!(!path.exists(), "the half-written secret was removed");

        write_secret_file(&path, "ci", &k).unwrap();
        assert_eq!(
            std::fs::read_to_string(&path).unwrap(),
            format!(
                "[ci]\naws_access_key_id = AKIAEXAMPLENEWKEY001\naws_secret_access_key = {}\n",
                k.secret.expose_secret()
            )
        );
        assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
    }

    #[test]
    fn an_existing_file_is_neither_overwritten_nor_removed() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("taken.credentials");
        std::fs::write(&path, "mine").unwrap();
        let err = write_secret_file(&path, "ci", &key()).unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::AlreadyExists);
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "mine");
    }

    #[test]
    fn a_relative_path_syncs_the_working_directory() {
        // `x.credentials` has an empty parent: the directory synced is ".".
        assert!(sync_dir(Path::new("x.credentials")).is_ok());
        let dir = tempfile::tempdir().unwrap();
        assert!(sync_dir(&dir.path().join("x")).is_ok());
        assert!(sync_dir(&dir.path().join("missing/x")).is_err());
    }

    #[test]
    fn the_default_path_is_in_a_private_data_dir() {
        let id = AccessKeyId("AKIAEXAMPLENEWKEY001".into());
        let data = directories::ProjectDirs::from("", "", "keytriage")
            .unwrap()
            .data_local_dir()
            .to_path_buf();
        assert_eq!(
            default_path("ci", &id),
            data.join("credentials/ci-AKIAEXAMPLENEWKEY001")
        );
        let home = directories::BaseDirs::new().unwrap().home_dir().to_path_buf();
        let text = default_path_text("ci", &id);
        assert!(text.starts_with("~/"), "{text}");
        assert_eq!(home.join(&text[2..]), default_path("ci", &id));
        assert_eq!(
            default_path_in(None, "ci", &id),
            Path::new("./ci-AKIAEXAMPLENEWKEY001.credentials")
        );

        // The folder is created 0700 (and an existing looser one tightened).
        let base = tempfile::tempdir().unwrap();
        let creds = base.path().join("share/keytriage/credentials");
        private_dir(&creds).unwrap();
        assert_eq!(std::fs::metadata(&creds).unwrap().permissions().mode() & 0o777, 0o700);
        std::fs::set_permissions(&creds, std::fs::Permissions::from_mode(0o755)).unwrap();
        private_dir(&creds).unwrap();
        assert_eq!(std::fs::metadata(&creds).unwrap().permissions().mode() & 0o777, 0o700);
        let path = default_path_in(Some(&creds), "ci", &id);
        write_with(&path, "ci", &key(), |f, b| f.write_all(b)).unwrap();
        assert!(path.exists());
    }

    #[test]
    fn core_dumps_are_off_after_disable() {
        disable_core_dumps().unwrap();
        let limit = rustix::process::getrlimit(rustix::process::Resource::Core);
        assert_eq!((limit.current, limit.maximum), (Some(0), Some(0)));
        let limits = std::fs::read_to_string("/proc/self/limits").unwrap();
        let core = limits.lines().find(|l| l.starts_with("Max core file size")).unwrap();
        assert_eq!(core.split_whitespace().collect::<Vec<_>>()[4..6], ["0", "0"]);
        assert_eq!(
            rustix::process::dumpable_behavior().unwrap(),
            rustix::process::DumpableBehavior::NotDumpable
        );
    }
}
