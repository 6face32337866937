//! `synod login sign`: signs a console's one-time login challenge with a key that never touches a browser. The
//! challenge is decoded and shown first (account, console origin, expiry), so the signer sees where the signature
//! will be used; the signature is under the console-login domain and binds the chain from the genesis file.

use std::path::PathBuf;

use anyhow::{Context as _, bail};
use governance_contracts::{codec, crypto::Signature, types::LoginChallenge};
use serde::Serialize;

use super::{files, proposal::chain_of};

/// The longest challenge accepted, in hex characters.
const MAX_CHALLENGE_HEX: usize = 4096;

/// `synod login sign`.
#[derive(Debug, Clone, clap::Args)]
pub struct LoginSignArgs {
    /// The challenge the console shows (its canonical bytes, hex).
    #[arg(value_name = "CHALLENGE_HEX")]
    pub challenge: String,
    /// The account's private key (PKCS#8 PEM).
    #[arg(long, value_name = "FILE.pem")]
    pub key: PathBuf,
    /// The chain's genesis (the signature binds its id and hash).
    #[arg(long, value_name = "FILE.json")]
    pub genesis: PathBuf,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

/// What `synod login sign` prints.
#[derive(Debug, Clone, Serialize)]
struct Signed {
    account: String,
    origin: String,
    expires_at_ms: u64,
    signature: Signature,
}

/// Decodes, shows and signs a login challenge.
pub fn sign(args: &LoginSignArgs) -> anyhow::Result<()> {
    let text = args.challenge.trim();
    if text.len() > MAX_CHALLENGE_HEX {
        bail!("the challenge is longer than {MAX_CHALLENGE_HEX} hex characters: not a login challenge");
    }
    let bytes = hex::decode(text).context("the challenge is not hex")?;
    let challenge: LoginChallenge = codec::decode(&bytes).context("the bytes are not a console login challenge")?;
    let (_, chain) = chain_of(&args.genesis)?;
    let secret = files::load_secret_key(&args.key)?;
    let signature = secret.sign(&challenge.signing_digest(&chain));
    let signed = Signed {
        account: challenge.account.to_string(),
        origin: challenge.origin.to_string(),
        expires_at_ms: challenge.expires_at_ms,
        signature,
    };
    files::print(args.json, &signed, || {
        format!(
            "signs in {} at {} (challenge valid until {} ms since the epoch)\nsignature {}",
            signed.account, signed.origin, signed.expires_at_ms, signed.signature
        )
    })
}
