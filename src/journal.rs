//! The journal: an append-only record of every write action, one JSON object per line in
//! `journal.jsonl` in the data directory (`~/.local/share/keytriage/` on Linux).
//!
//! Each action writes two lines sharing an `action_id`: the **intent**, flushed and synced to
//! disk before the AWS call, and the **outcome** after it. An intent without an outcome is an
//! action that was interrupted (crash, `kill -9`) or still in flight in another process:
//! [`unfinished`] finds them all, [`interrupted`] only those whose process is gone or that are
//! older than any call can take ([`STALE_AFTER`]). The journal never holds a secret: entries
//! have no field for one, but they hold ARNs, key ids and request ids, so the file is private
//! (0600, in a 0700 directory when keytriage creates it; see [`Journal::tighten`]).

use crate::model::{AccessKeyId, AccountId, CredentialRef, KeyAction, Timestamp};
use serde::{Deserialize, Serialize};
use std::collections::HashSet;
use std::io::Write;
use std::path::{Path, PathBuf};

/// Which line of an action this is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Phase {
    /// Written (and synced) before the AWS call.
    Intent,
    /// Written after it.
    Outcome,
}

/// How an action ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ActionResult {
    /// AWS accepted it.
    Ok,
    /// AWS refused it or could not be reached (see `error_code`).
    Failed,
    /// No answer from AWS (connection lost, timeout, 5xx) to a call that may have taken
    /// effect; the user's keys were re-read and `message` says what is true now (a new key's
    /// id, a deleted key's absence) and what to do.
    Unknown,
    /// Not made: a target of a batch whose live pre-check found it changed, gone, or used
    /// since the operator confirmed; `message` says which.
    Skipped,
    /// Found without an outcome at a later start (a crash or kill between intent and
    /// outcome); `message` has the key's state as read then.
    Interrupted,
}

/// One line of the journal.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    /// When this line was written (UTC).
    pub time: Timestamp,
    /// Shared by the intent and the outcome of one action.
    pub action_id: String,
    /// Intent or outcome.
    pub phase: Phase,
    /// The caller's ARN (`sts:GetCallerIdentity`).
    pub operator: String,
    /// Account of the key.
    pub account_id: AccountId,
    /// IAM user.
    pub user: String,
    /// The key acted on; for `create`, the new key (in the outcome; `null` in the intent);
    /// `null` for a write on another kind of credential (see `credential`) or on the console
    /// password (`disable_console`: the user's password).
    pub access_key_id: Option<AccessKeyId>,
    /// The SSH public key, signing certificate or service-specific credential acted on: its
    /// kind (`ssh_public_key`, `signing_certificate`, `service_specific`) and id. Absent for
    /// access keys and the console password (and in journals written before it existed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credential: Option<CredentialRef>,
    /// What was done (`create` for a rotation's `CreateAccessKey`).
    pub action: KeyAction,
    /// Outcome lines only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result: Option<ActionResult>,
    /// AWS's request id of the call (outcome lines).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
    /// AWS's error code when it failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_code: Option<String>,
    /// A short description of the failure.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// The batch this action belongs to (a bulk action on marked keys: every intent and
    /// outcome of it shares this id); absent for a single write.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub batch_id: Option<String>,
}

/// The journal file.
#[derive(Clone, Debug)]
pub struct Journal {
    path: PathBuf,
}

/// The journal could not be written or read.
#[derive(Debug, thiserror::Error)]
#[error("journal {path}: {source}")]
pub struct JournalError {
    /// The file.
    pub path: PathBuf,
    /// Why.
    #[source]
    pub source: std::io::Error,
}

impl Journal {
    /// The journal at `path` (created on first write, with its directory).
    pub fn at(path: impl Into<PathBuf>) -> Self {
        Self { path: path.into() }
    }

    /// `<data dir>/journal.jsonl`, or `KEYTRIAGE_JOURNAL` when set.
    pub fn default_path() -> Option<PathBuf> {
        if let Some(p) = std::env::var_os("KEYTRIAGE_JOURNAL") {
            return Some(PathBuf::from(p));
        }
        data_dir().map(|d| d.join("journal.jsonl"))
    }

    /// The demo's journal for a session whose real journal is `real`: `<stem>-demo.jsonl`
    /// beside it (`journal-demo.jsonl` by default), never `real` itself.
    pub fn demo_path(real: &Path) -> PathBuf {
        let stem = real
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| "journal".into());
        real.with_file_name(format!("{stem}-demo.jsonl"))
    }

    /// A clean demo journal for a demo start: the demo resets its emulated organization at
    /// every start, so the journal of the previous demo run is moved to
    /// `<stem>-demo.previous.jsonl` (replacing an older one) and this run starts empty. The
    /// real journal `real` is never touched.
    ///
    /// # Errors
    /// [`JournalError`] when the previous demo journal exists but cannot be moved.
    pub fn start_demo(real: &Path) -> std::result::Result<Self, JournalError> {
        let path = Self::demo_path(real);
        let previous = path.with_extension("previous.jsonl");
        match std::fs::rename(&path, &previous) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(source) => return Err(JournalError { path, source }),
        }
        Ok(Self::at(path))
    }

    /// The file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn err(&self, source: std::io::Error) -> JournalError {
        JournalError {
            path: self.path.clone(),
            source,
        }
    }

    /// Appends one line and syncs it to disk before returning. A new file is created 0600
    /// (whatever the umask), missing directories 0700, and the directory entry of each is
    /// synced too, so the first intent survives a crash.
    ///
    /// # Errors
    /// [`JournalError`]; callers must not make the AWS call when the intent cannot be written.
    pub fn append(&self, entry: &Entry) -> std::result::Result<(), JournalError> {
        if let Some(dir) = self.path.parent().filter(|d| !d.as_os_str().is_empty()) {
            create_private_dirs(dir).map_err(|e| self.err(e))?;
        }
        let mut line = serde_json::to_vec(entry).map_err(|e| self.err(e.into()))?;
        line.push(b'\n');
        let (mut file, created) = open_private(&self.path).map_err(|e| self.err(e))?;
        // A crash mid-write leaves a torn last line: start on a fresh line so this entry
        // stays readable (the torn one is skipped by `read`).
        if ends_without_newline(&mut file).map_err(|e| self.err(e))? {
            line.insert(0, b'\n');
        }
        file.write_all(&line).map_err(|e| self.err(e))?;
        file.sync_data().map_err(|e| self.err(e))?;
        if created {
            sync_parent(&self.path).map_err(|e| self.err(e))?;
        }
        Ok(())
    }

    /// Makes an existing journal private: the file 0600, and its directory 0700 when that is
    /// keytriage's own data directory (a directory named by `KEYTRIAGE_JOURNAL` is left as it
    /// is). Returns one notice per change, for the operator, e.g. `journal
    /// /home/u/.local/share/keytriage/journal.jsonl was readable by other users (mode 0644);
    /// it is now 0600`. A missing file needs nothing.
    ///
    /// # Errors
    /// [`JournalError`] when the file's mode cannot be read or changed.
    pub fn tighten(&self) -> std::result::Result<Vec<String>, JournalError> {
        let mut notices = Vec::new();
        #[cfg(unix)]
        {
            let ours = data_dir();
            let dir = self.path.parent().filter(|d| ours.as_deref() == Some(*d));
            for (path, mode, what) in [(Some(self.path.as_path()), 0o600, "journal"), (dir, 0o700, "directory")] {
                let Some(path) = path else { continue };
                if let Some(old) = make_private(path, mode).map_err(|e| self.err(e))? {
                    notices.push(format!(
                        "{what} {} was readable by other users (mode {old:04o}); it is now {mode:04o}",
                        path.display()
                    ));
                }
            }
        }
        Ok(notices)
    }

    /// Every readable line, oldest first. A missing file is an empty journal; unreadable lines
    /// (a torn last line after a crash) are skipped.
    ///
    /// # Errors
    /// [`JournalError`] when the file exists but cannot be read.
    pub fn read(&self) -> std::result::Result<Vec<Entry>, JournalError> {
        match std::fs::read_to_string(&self.path) {
            Ok(text) => Ok(parse_lines(&text)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Vec::new()),
            Err(source) => Err(self.err(source)),
        }
    }

    /// The complete lines from byte `offset` on (0: the whole file), and the offset after the
    /// last of them. A last line without its newline (being written) is left for the next
    /// call. `None` when the file is shorter than `offset` (it was replaced: read it from 0).
    ///
    /// # Errors
    /// [`JournalError`] when the file exists but cannot be read.
    pub fn read_from(&self, offset: u64) -> std::result::Result<Option<(Vec<Entry>, u64)>, JournalError> {
        use std::io::{Read, Seek, SeekFrom};
        let mut file = match std::fs::File::open(&self.path) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Ok((offset == 0).then_some((Vec::new(), 0)));
            }
            Err(source) => return Err(self.err(source)),
        };
        let len = file.metadata().map_err(|e| self.err(e))?.len();
        if len < offset {
            return Ok(None);
        }
        file.seek(SeekFrom::Start(offset)).map_err(|e| self.err(e))?;
        let mut bytes = Vec::new();
        file.read_to_end(&mut bytes).map_err(|e| self.err(e))?;
        let complete = bytes.iter().rposition(|b| *b == b'\n').map_or(0, |i| i + 1);
        let text = String::from_utf8_lossy(&bytes[..complete]);
        Ok(Some((parse_lines(&text), offset + complete as u64)))
    }
}

fn parse_lines(text: &str) -> Vec<Entry> {
    text.lines().filter_map(|l| serde_json::from_str(l).ok()).collect()
}

/// A reader that follows the journal as it grows: each [`Tail::read_new`] parses only the
/// lines appended since the previous one (a `:journal` view stays current after each write
/// without re-reading the whole file).
#[derive(Debug)]
pub struct Tail {
    journal: Journal,
    offset: Option<u64>,
}

/// What [`Tail::read_new`] found.
#[derive(Debug, PartialEq, Eq)]
pub enum TailRead {
    /// The whole journal (the first read, or the file was replaced): replace what you hold.
    All(Vec<Entry>),
    /// Lines appended since the previous read (possibly none): add them.
    New(Vec<Entry>),
}

impl Tail {
    /// A tail of `journal` that has read nothing yet.
    pub fn new(journal: Journal) -> Self {
        Self { journal, offset: None }
    }

    /// The lines appended since the previous call, or the whole journal on the first call.
    ///
    /// # Errors
    /// [`JournalError`] when the file exists but cannot be read; the next call retries.
    pub fn read_new(&mut self) -> std::result::Result<TailRead, JournalError> {
        if let Some(offset) = self.offset
            && let Some((entries, next)) = self.journal.read_from(offset)?
        {
            self.offset = Some(next);
            return Ok(TailRead::New(entries));
        }
        let (entries, next) = self.journal.read_from(0)?.unwrap_or_default();
        self.offset = Some(next);
        Ok(TailRead::All(entries))
    }
}

/// keytriage's data directory (`~/.local/share/keytriage` on Linux).
fn data_dir() -> Option<PathBuf> {
    directories::ProjectDirs::from("", "", "keytriage").map(|d| d.data_local_dir().to_path_buf())
}

/// Creates `dir` and its missing ancestors with mode 0700 exactly, syncing each new entry's
/// parent directory. Existing directories are left as they are.
fn create_private_dirs(dir: &Path) -> std::io::Result<()> {
    let mut missing = Vec::new();
    let mut next = Some(dir);
    while let Some(d) = next.filter(|d| !d.as_os_str().is_empty() && !d.exists()) {
        missing.push(d);
        next = d.parent();
    }
    for d in missing.into_iter().rev() {
        let mut builder = std::fs::DirBuilder::new();
        #[cfg(unix)]
        {
            use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
            builder.mode(0o700);
            match builder.create(d) {
                Ok(()) => std::fs::set_permissions(d, std::fs::Permissions::from_mode(0o700))?,
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
                Err(e) => return Err(e),
            }
        }
        #[cfg(not(unix))]
        match builder.create(d) {
            Err(e) if e.kind() != std::io::ErrorKind::AlreadyExists => return Err(e),
            _ => {}
        }
        sync_parent(d)?;
    }
    Ok(())
}

/// Opens `path` for appending; creates it 0600 (umask or not) when missing. True when created.
fn open_private(path: &Path) -> std::io::Result<(std::fs::File, bool)> {
    let mut new = std::fs::OpenOptions::new();
    new.read(true).append(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        new.mode(0o600);
    }
    match new.open(path) {
        Ok(file) => {
            #[cfg(unix)]
            {
                use std::os::unix::fs::PermissionsExt;
                file.set_permissions(std::fs::Permissions::from_mode(0o600))?;
            }
            Ok((file, true))
        }
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            let file = std::fs::OpenOptions::new().read(true).append(true).open(path)?;
            Ok((file, false))
        }
        Err(e) => Err(e),
    }
}

/// Syncs the directory holding `path`, so a new entry in it survives a crash.
fn sync_parent(path: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    if let Some(dir) = path.parent() {
        let dir = if dir.as_os_str().is_empty() {
            Path::new(".")
        } else {
            dir
        };
        std::fs::File::open(dir)?.sync_all()?;
    }
    Ok(())
}

/// Sets `path`'s mode to `mode` when group or others have any access; returns the old mode
/// (permission bits) when it changed it. A missing path needs nothing.
#[cfg(unix)]
fn make_private(path: &Path, mode: u32) -> std::io::Result<Option<u32>> {
    use std::os::unix::fs::PermissionsExt;
    let old = match std::fs::metadata(path) {
        Ok(m) => m.permissions().mode() & 0o7777,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e),
    };
    if old & 0o077 == 0 {
        return Ok(None);
    }
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))?;
    Ok(Some(old))
}

fn ends_without_newline(file: &mut std::fs::File) -> std::io::Result<bool> {
    use std::io::{Read, Seek, SeekFrom};
    if file.metadata()?.len() == 0 {
        return Ok(false);
    }
    file.seek(SeekFrom::End(-1))?;
    let mut last = [0u8; 1];
    file.read_exact(&mut last)?;
    Ok(last[0] != b'\n')
}

/// Intents without an outcome, oldest first: actions interrupted between the intent and the
/// outcome, or still in flight in a running process. One pass over the journal (O(n)).
pub fn unfinished(entries: &[Entry]) -> Vec<&Entry> {
    let closed: HashSet<&str> = entries
        .iter()
        .filter(|e| e.phase == Phase::Outcome)
        .map(|e| e.action_id.as_str())
        .collect();
    entries
        .iter()
        .filter(|e| e.phase == Phase::Intent && !closed.contains(e.action_id.as_str()))
        .collect()
}

/// How long one action can take at most between its intent and its outcome: the write call's
/// whole retry budget is far below this. An older intent without an outcome is interrupted
/// whatever its process id says (the id may have been reused).
pub const STALE_AFTER: chrono::TimeDelta = chrono::TimeDelta::minutes(10);

/// The unfinished intents ([`unfinished`]) that are certainly interrupted at `now` (UTC): the
/// process that wrote them is gone (`alive(pid)` is false; see [`process_alive`]), or they are
/// older than [`STALE_AFTER`]. An intent of a live process (a cron write while the TUI starts,
/// or this process's own write in flight) is left alone. An action id that names no process
/// (not made by [`new_action_id`]) counts as a gone process.
pub fn interrupted(entries: &[Entry], now: Timestamp, alive: impl Fn(u32) -> bool) -> Vec<&Entry> {
    unfinished(entries)
        .into_iter()
        .filter(|e| now - e.time > STALE_AFTER || !action_pid(&e.action_id).is_some_and(&alive))
        .collect()
}

/// The process id in an action id made by [`new_action_id`] (`<time>-<pid>-<counter>`).
pub fn action_pid(action_id: &str) -> Option<u32> {
    let mut parts = action_id.split('-');
    let (time, pid, n) = (parts.next()?, parts.next()?, parts.next()?);
    let well_formed = parts.next().is_none()
        && chrono::NaiveDateTime::parse_from_str(time, "%Y%m%dT%H%M%S%.3fZ").is_ok()
        && n.parse::<u32>().is_ok();
    well_formed.then(|| pid.parse().ok()).flatten().filter(|p| *p > 0)
}

/// True when a process with id `pid` exists on this machine (`kill(pid, 0)`; a process of
/// another user counts). Without a way to tell (not Unix), true.
pub fn process_alive(pid: u32) -> bool {
    #[cfg(unix)]
    {
        // Signal 0 performs only the existence and permission checks; nothing is sent.
        let Some(pid) = i32::try_from(pid).ok().and_then(rustix::process::Pid::from_raw) else {
            return false;
        };
        match rustix::process::test_kill_process(pid) {
            Ok(()) => true,
            Err(e) => e == rustix::io::Errno::PERM,
        }
    }
    #[cfg(not(unix))]
    {
        let _ = pid;
        true
    }
}

/// A new action id: `<time UTC>-<pid>-<counter>`, e.g. `20261129T075854.123Z-4242-0`. Unique
/// within one journal; the pid tells a later start whether the writer is still running
/// ([`action_pid`]).
pub fn new_action_id(now: Timestamp) -> String {
    use std::sync::atomic::{AtomicU32, Ordering};
    static N: AtomicU32 = AtomicU32::new(0);
    format!(
        "{}-{}-{}",
        now.format("%Y%m%dT%H%M%S%.3fZ"),
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn old_lines_without_a_credential_still_read_and_new_kinds_round_trip() {
        // A line as written before other credential kinds existed.
        let old = r#"{"time":"2026-11-29T07:58:54Z","action_id":"a","phase":"outcome","operator":"arn:aws:iam::111111111111:user/op","account_id":"111111111111","user":"alice","access_key_id":"AKIA1","action":"delete","result":"ok"}"#;
        let e: Entry = serde_json::from_str(old).unwrap();
        assert_eq!(
            (e.action, e.credential, e.access_key_id),
            (KeyAction::Delete, None, Some(AccessKeyId("AKIA1".into())))
        );
        let mut ssh = entry("b", Phase::Intent);
        ssh.access_key_id = None;
        ssh.credential = Some(CredentialRef {
            kind: crate::model::CredentialKind::SshPublicKey,
            id: "APKA1".into(),
        });
        let line = serde_json::to_string(&ssh).unwrap();
        assert!(
            line.contains(r#""access_key_id":null,"credential":{"kind":"ssh_public_key","id":"APKA1"}"#),
            "{line}"
        );
        assert_eq!(serde_json::from_str::<Entry>(&line).unwrap(), ssh);
        let mut password = entry("c", Phase::Intent);
        password.access_key_id = None;
        password.action = KeyAction::DisableConsole;
        let line = serde_json::to_string(&password).unwrap();
        assert!(line.contains(r#""action":"disable_console""#), "{line}");
        assert!(!line.contains("credential"), "absent when none: {line}");
        assert_eq!(serde_json::from_str::<Entry>(&line).unwrap(), password);
    }

    fn entry(id: &str, phase: Phase) -> Entry {
        Entry {
            time: chrono::Utc::now(),
            action_id: id.into(),
            phase,
            operator: "arn:aws:iam::111111111111:user/op".into(),
            account_id: AccountId::parse("111111111111").unwrap(),
            user: "alice".into(),
            access_key_id: Some(AccessKeyId("AKIA1".into())),
            credential: None,
            action: KeyAction::Deactivate,
            result: (phase == Phase::Outcome).then_some(ActionResult::Ok),
            request_id: None,
            error_code: None,
            message: None,
            batch_id: None,
        }
    }

    #[test]
    fn appends_reads_and_finds_unfinished() {
        let dir = tempfile::tempdir().unwrap();
        let j = Journal::at(dir.path().join("sub/journal.jsonl"));
        assert!(j.read().unwrap().is_empty());
        j.append(&entry("a", Phase::Intent)).unwrap();
        j.append(&entry("a", Phase::Outcome)).unwrap();
        j.append(&entry("b", Phase::Intent)).unwrap();
        // A torn last line, as after a crash mid-write.
        std::fs::OpenOptions::new()
            .append(true)
            .open(j.path())
            .unwrap()
            .write_all(b"{\"time\":")
            .unwrap();
        let all = j.read().unwrap();
        assert_eq!(all.len(), 3);
        assert_eq!(
            unfinished(&all)
                .iter()
                .map(|e| e.action_id.as_str())
                .collect::<Vec<_>>(),
            ["b"]
        );
        // The next entry after the torn line is not glued to it.
        j.append(&entry("c", Phase::Intent)).unwrap();
        let all = j.read().unwrap();
        assert_eq!(
            all.iter().map(|e| e.action_id.as_str()).collect::<Vec<_>>(),
            ["a", "a", "b", "c"]
        );
    }

    #[test]
    fn lines_are_json_with_the_contract_fields() {
        let line = serde_json::to_string(&entry("a", Phase::Outcome)).unwrap();
        assert!(line.starts_with("{\"time\":"));
        for field in [
            "\"action_id\":\"a\"",
            "\"phase\":\"outcome\"",
            "\"action\":\"deactivate\"",
            "\"result\":\"ok\"",
        ] {
            assert!(line.contains(field), "{line}");
        }
    }

    fn entry_of(id: String, phase: Phase, time: Timestamp) -> Entry {
        Entry {
            time,
            action_id: id,
            ..entry("x", phase)
        }
    }

    #[cfg(unix)]
    fn mode(p: &Path) -> u32 {
        use std::os::unix::fs::PermissionsExt;
        std::fs::metadata(p).unwrap().permissions().mode() & 0o7777
    }

    #[cfg(unix)]
    #[test]
    fn a_new_journal_is_private_whatever_the_umask() {
        let dir = tempfile::tempdir().unwrap();
        let j = Journal::at(dir.path().join("a/b/journal.jsonl"));
        let old = rustix::process::umask(rustix::fs::Mode::empty());
        let result = j.append(&entry("a", Phase::Intent));
        rustix::process::umask(old);
        result.unwrap();
        assert_eq!(mode(j.path()), 0o600);
        assert_eq!(mode(&dir.path().join("a/b")), 0o700);
        assert_eq!(mode(&dir.path().join("a")), 0o700);
        // A later append keeps it so and needs no notice.
        j.append(&entry("a", Phase::Outcome)).unwrap();
        assert_eq!(mode(j.path()), 0o600);
        assert!(j.tighten().unwrap().is_empty());
    }

    #[cfg(unix)]
    #[test]
    fn an_existing_readable_journal_is_tightened_with_a_notice() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("journal.jsonl");
        std::fs::write(&path, b"").unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
        let j = Journal::at(&path);
        assert_eq!(
            j.tighten().unwrap(),
            [format!(
                "journal {} was readable by other users (mode 0644); it is now 0600",
                path.display()
            )]
        );
        assert_eq!(mode(&path), 0o600);
        assert_eq!(mode(dir.path()), 0o755, "a directory not keytriage's own is left alone");
        assert!(j.tighten().unwrap().is_empty(), "once");
        assert!(Journal::at(dir.path().join("none.jsonl")).tighten().unwrap().is_empty());
    }

    #[test]
    fn unfinished_is_one_pass_and_keeps_order() {
        let mut all = Vec::new();
        for i in 0..20_000 {
            all.push(entry(&format!("id{i}"), Phase::Intent));
            if i % 1000 != 7 {
                all.push(entry(&format!("id{i}"), Phase::Outcome));
            }
        }
        let ids: Vec<&str> = unfinished(&all).iter().map(|e| e.action_id.as_str()).collect();
        assert_eq!(ids.len(), 20);
        assert_eq!(ids[..2], ["id7", "id1007"]);
    }

    #[test]
    fn action_ids_name_their_process() {
        let now = chrono::Utc::now();
        assert_eq!(action_pid(&new_action_id(now)), Some(std::process::id()));
        assert_eq!(action_pid("20261129T075854.123Z-4242-0"), Some(4242));
        for foreign in [
            "crashed-1",
            "a-1-2",
            "20261129T075854.123Z-0-1",
            "20261129T075854.123Z-x-1",
            "",
        ] {
            assert_eq!(action_pid(foreign), None, "{foreign}");
        }
    }

    #[cfg(unix)]
    #[test]
    fn only_intents_of_gone_processes_or_old_ones_are_interrupted() {
        let now = chrono::Utc::now();
        // A process that has exited (and been reaped): its pid is gone.
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let dead = child.id();
        child.wait().unwrap();
        let me = std::process::id();
        let id = |pid: u32, n: u32| format!("{}-{pid}-{n}", now.format("%Y%m%dT%H%M%S%.3fZ"));
        let all = vec![
            entry_of(id(me, 1), Phase::Intent, now - chrono::TimeDelta::seconds(30)),
            entry_of(id(dead, 2), Phase::Intent, now - chrono::TimeDelta::seconds(30)),
            entry_of(id(me, 3), Phase::Intent, now - chrono::TimeDelta::minutes(11)),
            entry_of("legacy".into(), Phase::Intent, now),
        ];
        assert!(process_alive(me));
        assert!(!process_alive(dead), "pid {dead} was reused; rerun");
        let found: Vec<&str> = interrupted(&all, now, process_alive)
            .iter()
            .map(|e| e.action_id.as_str())
            .collect();
        assert_eq!(found, [all[1].action_id.as_str(), &all[2].action_id, "legacy"]);
    }

    #[test]
    fn a_tail_reads_only_what_was_appended() {
        let dir = tempfile::tempdir().unwrap();
        let j = Journal::at(dir.path().join("journal.jsonl"));
        let mut tail = Tail::new(j.clone());
        assert_eq!(tail.read_new().unwrap(), TailRead::All(vec![]));
        j.append(&entry("a", Phase::Intent)).unwrap();
        j.append(&entry("a", Phase::Outcome)).unwrap();
        let TailRead::New(new) = tail.read_new().unwrap() else {
            panic!("not incremental")
        };
        assert_eq!(new.len(), 2);
        // A line being written (no newline yet) waits for the next read.
        let mut f = std::fs::OpenOptions::new().append(true).open(j.path()).unwrap();
        let line = serde_json::to_string(&entry("b", Phase::Intent)).unwrap();
        f.write_all(&line.as_bytes()[..10]).unwrap();
        assert_eq!(tail.read_new().unwrap(), TailRead::New(vec![]));
        f.write_all(&line.as_bytes()[10..]).unwrap();
        f.write_all(b"\n").unwrap();
        let TailRead::New(new) = tail.read_new().unwrap() else {
            panic!("not incremental")
        };
        assert_eq!(new.iter().map(|e| e.action_id.as_str()).collect::<Vec<_>>(), ["b"]);
        // A replaced (shorter) file is read whole again.
        std::fs::write(j.path(), b"").unwrap();
        assert_eq!(tail.read_new().unwrap(), TailRead::All(vec![]));
    }

    #[test]
    fn each_demo_start_gets_a_clean_journal_beside_the_real_one() {
        let dir = tempfile::tempdir().unwrap();
        let real = dir.path().join("journal.jsonl");
        std::fs::write(&real, b"real\n").unwrap();
        let demo = Journal::start_demo(&real).unwrap();
        assert_eq!(demo.path(), dir.path().join("journal-demo.jsonl"));
        demo.append(&entry("first-run", Phase::Intent)).unwrap();
        let demo = Journal::start_demo(&real).unwrap();
        assert!(demo.read().unwrap().is_empty(), "the second start begins empty");
        let previous = Journal::at(dir.path().join("journal-demo.previous.jsonl"));
        assert_eq!(previous.read().unwrap()[0].action_id, "first-run");
        assert_eq!(std::fs::read(&real).unwrap(), b"real\n");
        assert_eq!(
            Journal::demo_path(&dir.path().join("audit.jsonl")),
            dir.path().join("audit-demo.jsonl")
        );
    }
}
