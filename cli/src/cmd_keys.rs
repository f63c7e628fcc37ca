//! `jiu keys`: create and inspect key files.

use std::path::PathBuf;

use eyre::WrapErr;
use jiu_contracts::PublicKey;
use jiu_genesis::keys;

/// Key file commands.
#[derive(clap::Subcommand, Debug)]
pub enum KeysCmd {
    /// Generate a key file (0600) and print its public key
    Gen {
        /// Where to write the key file; an existing file is never overwritten
        #[arg(long)]
        out: PathBuf,
    },
    /// Print the public key of a key file
    Show {
        /// The key file
        path: PathBuf,
    },
}

/// Runs a `jiu keys` command.
pub fn run(cmd: KeysCmd) -> eyre::Result<()> {
    match cmd {
        KeysCmd::Gen { out } => {
            let key = keys::generate();
            keys::write_key_file(&out, &key).wrap_err("cannot write key file")?;
            println!("{}", PublicKey::from_signing_key(&key));
        }
        KeysCmd::Show { path } => {
            let key = keys::read_key_file(&path).wrap_err("cannot read key file")?;
            println!("{}", PublicKey::from_signing_key(&key));
        }
    }
    Ok(())
}
