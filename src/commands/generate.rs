//! `keytriage completions SHELL` and `keytriage man`: shell completion scripts and the man
//! page, generated from the clap definitions in [`crate::cli`] (so they cannot drift from
//! the flags). Nothing here reads the config or talks to AWS.

use crate::cli::{Cli, CompletionShell};
use clap::CommandFactory as _;
use std::io::Write;

/// Writes the completion script for `shell` (bash, zsh, fish or PowerShell) to `out`.
///
/// # Errors
/// I/O errors of `out`.
pub fn completions(shell: CompletionShell, out: &mut dyn Write) -> std::io::Result<()> {
    use clap_complete::Shell;
    let shell = match shell {
        CompletionShell::Bash => Shell::Bash,
        CompletionShell::Zsh => Shell::Zsh,
        CompletionShell::Fish => Shell::Fish,
        CompletionShell::Powershell => Shell::PowerShell,
    };
    let mut cmd = Cli::command();
    // Write into a buffer first: clap_complete panics on a failed write.
    let mut buf = Vec::new();
    clap_complete::generate(shell, &mut cmd, "keytriage", &mut buf);
    out.write_all(&buf)
}

/// Writes the man page, section 1, in roff (`man -l` reads it), to `out`: name, synopsis,
/// description, the global flags, the subcommands with their summaries, then one
/// `OPTIONS OF keytriage <command>` section per visible subcommand that has flags.
///
/// # Errors
/// I/O errors of `out`.
pub fn man(out: &mut dyn Write) -> std::io::Result<()> {
    let cmd = Cli::command();
    let mut buf = Vec::new();
    clap_mangen::Man::new(cmd.clone()).render(&mut buf)?;
    for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
        if sub.get_arguments().all(|a| a.is_hide_set()) {
            continue;
        }
        let mut section = Vec::new();
        clap_mangen::Man::new(sub.clone()).render_options_section(&mut section)?;
        let text = String::from_utf8_lossy(&section);
        let heading = format!(".SH \"OPTIONS OF keytriage {}\"", sub.get_name());
        buf.extend_from_slice(text.replacen(".SH OPTIONS", &heading, 1).as_bytes());
    }
    out.write_all(&buf)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_shell_gets_a_script_naming_every_subcommand() {
        for shell in [
            CompletionShell::Bash,
            CompletionShell::Zsh,
            CompletionShell::Fish,
            CompletionShell::Powershell,
        ] {
            let mut out = Vec::new();
            completions(shell, &mut out).unwrap();
            let text = String::from_utf8(out).unwrap();
            for word in ["scan", "deactivate", "completions", "fail-on", "security-hub"] {
                assert!(text.contains(word), "{shell:?} lacks {word}");
            }
        }
    }

    #[test]
    fn man_page_has_the_sections_and_flags() {
        let mut out = Vec::new();
        man(&mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(text.starts_with(".ie \\n(.g .ds Aq"), "{}", &text[..80]);
        for needle in [
            ".TH keytriage 1",
            ".SH NAME",
            ".SH SYNOPSIS",
            ".SH SUBCOMMANDS",
            "\\-\\-demo",
            ".SH \"OPTIONS OF keytriage scan\"",
            "\\-\\-security\\-hub",
        ] {
            assert!(text.contains(needle), "man page lacks {needle}");
        }
    }
}
