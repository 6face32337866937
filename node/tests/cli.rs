//! The offline CLI, run as the real binary in temporary directories: keys (and their compatibility with
//! openssl), the genesis ceremony, proposals signed offline, a node's own key rotation, proofs, and bad files;
//! heights given relative to the chain's current height, asked of the real node API ([`common::api::Served`]),
//! and what the read commands print for auditors to compare.

use std::path::Path;
use std::process::{Command, Output};

use governance_contracts::codec::encode;
use governance_contracts::crypto::PublicKey;
use governance_contracts::execution;
use governance_contracts::ids::{Height, ProposalId};
use governance_contracts::state::MemoryStore;
use governance_contracts::types::{Approval, Event, Genesis, Outcome, SignedTransaction};
use serde_json::Value;

mod common;
use common::api::Served;
use common::member_bundle;

fn synod(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_synod"))
        .args(args)
        .current_dir(dir)
        .env_remove("RUST_BACKTRACE")
        .output()
        .expect("the synod binary runs")
}

/// Runs `synod` and returns its standard output, failing the test with its error if it failed.
fn ok(dir: &Path, args: &[&str]) -> String {
    let out = synod(dir, args);
    assert!(out.status.success(), "synod {args:?} failed: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).expect("utf-8 output")
}

fn json(dir: &Path, args: &[&str]) -> Value {
    serde_json::from_str(&ok(dir, args)).expect("JSON output")
}

/// Runs `synod`, expecting a clean failure: exit code 1 and an `error:` line naming `needle`, never a panic.
fn fails(dir: &Path, args: &[&str], needle: &str) -> String {
    let out = synod(dir, args);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(1), "synod {args:?}: {stderr}");
    assert!(stderr.starts_with("error: ") && stderr.contains(needle), "synod {args:?}: {stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    stderr
}

fn has_openssl() -> bool {
    let found = Command::new("openssl").arg("version").output().is_ok_and(|o| o.status.success());
    if !found {
        println!("skipping the openssl checks: no openssl binary on PATH");
    }
    found
}

fn public_key(text: &str) -> PublicKey {
    text.trim().parse().expect("a public key")
}

#[cfg(unix)]
fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::metadata(path).expect("exists").permissions().mode() & 0o777
}

/// `keygen` writes a 0600 PKCS#8 key that openssl reads, refuses to overwrite it without `--force`, and
/// `key show` prints the same public key for it, for an openssl-made key, and for openssl's public PEM of each.
#[test]
fn keygen_round_trips_with_openssl() {
    let dir = tempfile::tempdir().expect("temp dir");
    let d = dir.path();
    let printed = public_key(&ok(d, &["keygen", "--out", "a.pem"]));
    #[cfg(unix)]
    assert_eq!(mode(&d.join("a.pem")), 0o600);
    fails(d, &["keygen", "--out", "a.pem"], "--force");
    assert_eq!(public_key(&ok(d, &["key", "show", "a.pem"])), printed);
    let again = public_key(&ok(d, &["keygen", "--out", "a.pem", "--force"]));
    assert_ne!(again, printed);
    #[cfg(unix)]
    assert_eq!(mode(&d.join("a.pem")), 0o600);

    if !has_openssl() {
        return;
    }
    let openssl = |args: &[&str]| {
        let out = Command::new("openssl").args(args).current_dir(d).output().expect("openssl runs");
        assert!(out.status.success(), "openssl {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    };
    openssl(&["pkey", "-in", "a.pem", "-pubout", "-out", "a.pub"]);
    assert_eq!(public_key(&ok(d, &["key", "show", "a.pub"])), again);
    openssl(&["genpkey", "-algorithm", "ed25519", "-out", "o.pem"]);
    openssl(&["pkey", "-in", "o.pem", "-pubout", "-out", "o.pub"]);
    let from_private = public_key(&ok(d, &["key", "show", "o.pem"]));
    assert_eq!(public_key(&ok(d, &["key", "show", "o.pub"])), from_private);
    let shown = json(d, &["key", "show", "o.pem", "--json"]);
    assert_eq!(shown["public_key"], from_private.to_string());
}

/// Keys and organisation files for two organisations (`org1`, `org2`), each with a governor, an operator and a
/// sealer, combined into `genesis.json`; returns the genesis command's JSON output.
fn ceremony(d: &Path) -> Value {
    for o in ["1", "2"] {
        for who in ["gov", "ops", "node"] {
            ok(d, &["keygen", "--out", &format!("{who}{o}.pem")]);
        }
        ok(
            d,
            &[
                "org",
                "init",
                "--member",
                &format!("org{o}"),
                "--name",
                &format!("Organisation {o}"),
                "--governor",
                &format!("gov{o}=gov{o}.pem"),
                "--account",
                &format!("ops{o}=ops{o}.pem"),
                "--role",
                &format!("ops{o}=operator"),
                "--node",
                &format!("n{o}"),
                "--node-key",
                &format!("node{o}.pem"),
                "--address",
                &format!("127.0.0.1:770{o}"),
                "--out",
                &format!("org{o}.json"),
            ],
        );
    }
    json(
        d,
        &[
            "genesis",
            "--chain-id",
            "cli-test",
            "--org",
            "org1.json",
            "--org",
            "org2.json",
            "--time-ms",
            "1000",
            "--out",
            "genesis.json",
            "--json",
        ],
    )
}

fn load_genesis(path: &Path) -> Genesis {
    serde_json::from_slice(&std::fs::read(path).expect("genesis written")).expect("a genesis")
}

/// An organisation file holds the public keys of the PEM files it was given and no private key material.
#[test]
fn org_file_never_contains_private_key_material() {
    let dir = tempfile::tempdir().expect("temp dir");
    let d = dir.path();
    ceremony(d);
    let text = std::fs::read_to_string(d.join("org1.json")).expect("org file");
    assert!(!text.contains("PRIVATE"), "{text}");
    for pem in ["gov1.pem", "ops1.pem", "node1.pem"] {
        let private = std::fs::read_to_string(d.join(pem)).expect("key file");
        for line in private.lines().filter(|l| !l.starts_with("-----")) {
            assert!(!text.contains(line), "{pem}'s private key appears in the organisation file");
        }
        let public = public_key(&ok(d, &["key", "show", pem]));
        assert!(text.contains(&public.to_string()), "{pem}'s public key is missing");
    }
}

/// Two organisation files combine into a genesis the contracts accept, and the hash `genesis` and `genesis hash`
/// print is `Genesis::hash` of the file written.
#[test]
fn two_orgs_make_a_genesis_with_the_printed_hash() {
    let dir = tempfile::tempdir().expect("temp dir");
    let d = dir.path();
    let printed = ceremony(d);
    let genesis = load_genesis(&d.join("genesis.json"));
    assert!(execution::apply_genesis(&genesis).is_ok());
    assert_eq!(printed["genesis_hash"], genesis.hash().to_string());
    assert_eq!((printed["members"].as_u64(), printed["sealers"].as_u64()), (Some(2), Some(2)));
    let hash = ok(d, &["genesis", "hash", "genesis.json"]);
    assert!(hash.contains(&genesis.hash().to_string()), "{hash}");
    // A weight for a member no file has is refused.
    fails(d, &["genesis", "--chain-id", "x", "--org", "org1.json", "--weight", "org9=2", "--out", "g2.json"], "org9");
}

/// A proposal drafted, shown and signed offline gives an approval whose signature verifies against the proposal
/// id `show` printed, by the signer's key; a transaction built from it checks against the genesis state.
#[test]
fn offline_proposal_approval_verifies_against_the_shown_digest() {
    let dir = tempfile::tempdir().expect("temp dir");
    let d = dir.path();
    ceremony(d);
    ok(
        d,
        &[
            "proposal",
            "draft",
            "--proposer",
            "gov1",
            "--expires-at",
            "500",
            "--out",
            "p.json",
            "set-member-weight",
            "--member",
            "org2",
            "--expected",
            "1",
            "--weight",
            "2",
        ],
    );
    let shown = json(d, &["proposal", "show", "p.json", "--genesis", "genesis.json", "--json"]);
    let id: ProposalId = shown["proposal_id"].as_str().expect("an id").parse().expect("a digest");
    assert!(
        shown["description"].to_string().contains("change the voting weight of member org2 from 1 to 2"),
        "{shown}"
    );
    ok(
        d,
        &[
            "proposal",
            "sign",
            "p.json",
            "--key",
            "gov1.pem",
            "--account",
            "gov1",
            "--genesis",
            "genesis.json",
            "--out",
            "a.json",
        ],
    );
    let approval: Approval =
        serde_json::from_str(&std::fs::read_to_string(d.join("a.json")).expect("approval")).expect("an approval");
    assert!(approval.key.verify(&id.0, &approval.signature));
    assert_eq!(approval.key, public_key(&ok(d, &["key", "show", "gov1.pem"])));

    ok(
        d,
        &[
            "tx",
            "build",
            "submit",
            "--proposal",
            "p.json",
            "--approval",
            "a.json",
            "--key",
            "gov1.pem",
            "--valid-until",
            "50",
            "--genesis",
            "genesis.json",
            "--out",
            "tx.json",
        ],
    );
    let signed: SignedTransaction =
        serde_json::from_str(&std::fs::read_to_string(d.join("tx.json")).expect("tx")).expect("a transaction");
    let genesis = load_genesis(&d.join("genesis.json"));
    let shown = json(d, &["tx", "show", "tx.json", "--genesis", "genesis.json", "--json"]);
    assert_eq!(shown["tx_hash"], signed.tx.hash(&genesis.identity()).to_string());
    assert_eq!(shown["signature_valid"], true);
    let state = genesis_state(&genesis);
    execution::check_transaction(&state, &signed, encode(&signed).len()).expect("the submission checks");
}

fn genesis_state(genesis: &Genesis) -> MemoryStore {
    let created = execution::apply_genesis(genesis).expect("valid genesis");
    let mut store = MemoryStore::new();
    store.apply(created.changes);
    store
}

/// `key rotate` writes the next node key with mode 0600 and a request that passes `check_transaction` against
/// the genesis state; once included, the operator's offline approval executes the rotation to the new key.
#[test]
fn key_rotate_writes_a_private_key_and_a_request_the_chain_accepts() {
    let dir = tempfile::tempdir().expect("temp dir");
    let d = dir.path();
    ceremony(d);
    let home = d.join("home");
    std::fs::create_dir_all(home.join("keys")).expect("home");
    std::fs::copy(d.join("genesis.json"), home.join("genesis.json")).expect("genesis copied");
    std::fs::copy(d.join("node1.pem"), home.join("keys/node-0.pem")).expect("key copied");
    let report = json(d, &["key", "rotate", "--home", "home", "--node", "n1", "--height", "0", "--json"]);
    let new_key = home.join("keys/node-1.pem");
    #[cfg(unix)]
    assert_eq!(mode(&new_key), 0o600);
    assert_eq!(report["new_key"], ok(d, &["key", "show", "home/keys/node-1.pem"]).trim());
    fails(d, &["key", "rotate", "--home", "home", "--node", "n1", "--height", "0"], "--force");

    let genesis = load_genesis(&home.join("genesis.json"));
    let request: SignedTransaction =
        serde_json::from_str(&std::fs::read_to_string(home.join("rotation-request.json")).expect("request"))
            .expect("a transaction");
    let mut store = genesis_state(&genesis);
    execution::check_transaction(&store, &request, encode(&request).len()).expect("the request checks");

    ok(
        d,
        &[
            "proposal",
            "sign",
            "home/rotation-request.json",
            "--key",
            "ops1.pem",
            "--account",
            "ops1",
            "--genesis",
            "genesis.json",
            "--out",
            "approval.json",
        ],
    );
    ok(
        d,
        &[
            "tx",
            "build",
            "approve",
            "--proposal",
            "home/rotation-request.json",
            "--approval",
            "approval.json",
            "--key",
            "ops1.pem",
            "--sender",
            "ops1",
            "--valid-until",
            "50",
            "--genesis",
            "genesis.json",
            "--out",
            "approve.json",
        ],
    );
    let approve: SignedTransaction =
        serde_json::from_str(&std::fs::read_to_string(d.join("approve.json")).expect("approve")).expect("a tx");
    let mut apply = |height: u64, tx: SignedTransaction| {
        let size = encode(&tx).len();
        let outcome = execution::apply_block(&store, Height(height), &[(tx, size)]).expect("the block applies");
        store.apply(outcome.changes);
        outcome.receipts.into_iter().next().expect("one receipt")
    };
    assert_eq!(apply(1, request).outcome, Outcome::Applied);
    let receipt = apply(2, approve);
    assert_eq!(receipt.outcome, Outcome::Applied);
    let expected = public_key(report["new_key"].as_str().expect("new key"));
    assert!(
        receipt.events.iter().any(|e| matches!(e, Event::NodeKeyChanged { new, .. } if *new == expected)),
        "{:?}",
        receipt.events
    );
}

/// `synod key rotate --home` takes the node's current key only from a private regular file inside the home: a key
/// linked from outside the home, or one others may read, is refused with the file named and what to do, and
/// nothing is written.
#[cfg(unix)]
#[test]
fn key_rotate_refuses_key_files_outside_the_home_or_readable_by_others() {
    use std::os::unix::fs::PermissionsExt as _;
    let dir = tempfile::tempdir().expect("temp dir");
    let d = dir.path();
    ceremony(d);
    let home = d.join("home");
    std::fs::create_dir_all(home.join("keys")).expect("home");
    std::fs::copy(d.join("genesis.json"), home.join("genesis.json")).expect("genesis copied");
    let rotate = ["key", "rotate", "--home", "home", "--node", "n1", "--height", "0"];

    std::os::unix::fs::symlink(d.join("node1.pem"), home.join("keys/node-0.pem")).expect("linked");
    let error = fails(d, &rotate, "node-0.pem");
    assert!(error.contains("symbolic link"), "{error}");

    std::fs::remove_file(home.join("keys/node-0.pem")).expect("unlinked");
    std::fs::copy(d.join("node1.pem"), home.join("keys/node-0.pem")).expect("key copied");
    std::fs::set_permissions(home.join("keys/node-0.pem"), std::fs::Permissions::from_mode(0o644)).expect("chmod");
    let error = fails(d, &rotate, "node-0.pem");
    assert!(error.contains("chmod 600"), "{error}");
    assert!(!home.join("keys/node-1.pem").exists() && !home.join("rotation-request.json").exists());

    std::fs::set_permissions(home.join("keys/node-0.pem"), std::fs::Permissions::from_mode(0o600)).expect("chmod");
    ok(d, &rotate);
}

/// Corrupt key, genesis, proposal, transaction and organisation files, and an oversized file, each give an error
/// naming the file and a failing exit code, never a panic.
#[test]
fn corrupt_files_give_clear_errors() {
    let dir = tempfile::tempdir().expect("temp dir");
    let d = dir.path();
    ceremony(d);
    std::fs::write(d.join("bad.pem"), "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n").expect("w");
    std::fs::write(d.join("bad.json"), "{\"chain_id\": ").expect("w");
    std::fs::write(d.join("binary.pem"), [0xff, 0xfe, 0x00]).expect("w");
    fails(d, &["key", "show", "bad.pem"], "bad.pem");
    fails(d, &["key", "show", "binary.pem"], "binary.pem");
    fails(d, &["key", "show", "missing.pem"], "missing.pem");
    fails(d, &["genesis", "hash", "bad.json"], "bad.json");
    fails(d, &["genesis", "hash", "org1.json"], "org1.json");
    fails(d, &["proposal", "show", "bad.json"], "bad.json");
    fails(d, &["proposal", "show", "genesis.json"], "genesis.json");
    fails(d, &["tx", "show", "bad.json"], "bad.json");
    fails(d, &["genesis", "--chain-id", "x", "--org", "bad.json", "--out", "g.json"], "bad.json");
    fails(
        d,
        &[
            "proposal",
            "sign",
            "bad.json",
            "--key",
            "gov1.pem",
            "--account",
            "gov1",
            "--genesis",
            "genesis.json",
            "--out",
            "a.json",
        ],
        "bad.json",
    );
    fails(
        d,
        &[
            "proposal",
            "sign",
            "org1.json",
            "--key",
            "bad.pem",
            "--account",
            "gov1",
            "--genesis",
            "genesis.json",
            "--out",
            "a.json",
        ],
        "org1.json",
    );
    let huge = std::fs::File::create(d.join("huge.json")).expect("w");
    huge.set_len(64 * 1024 * 1024).expect("sparse file");
    fails(d, &["tx", "show", "huge.json"], "more than");
    fails(d, &["key", "rotate", "--home", "nowhere", "--node", "n1", "--height", "0"], "genesis");
}

/// `verify-proof` prints a genuine bundle's record and refuses a bundle whose header was altered, naming the
/// failed check.
#[test]
fn verify_proof_accepts_genuine_bundles_and_refuses_altered_ones() {
    let dir = tempfile::tempdir().expect("temp dir");
    let d = dir.path();
    let (mut bundle, genesis) = member_bundle();
    std::fs::write(d.join("genesis.json"), serde_json::to_string(&genesis).expect("json")).expect("w");
    std::fs::write(d.join("bundle.json"), serde_json::to_string(&bundle).expect("json")).expect("w");
    let verified = json(d, &["verify-proof", "--genesis", "genesis.json", "bundle.json", "--json"]);
    assert_eq!(verified["height"], 1);
    assert_eq!(verified["value"]["kind"], "member");
    bundle.header.header.time_ms = 2;
    std::fs::write(d.join("altered.json"), serde_json::to_string(&bundle).expect("json")).expect("w");
    fails(d, &["verify-proof", "--genesis", "genesis.json", "altered.json"], "certificate is for another block");
}

/// `tx build mark-key-compromised` by the holder, with a replacement key proving possession, gives a transaction
/// the chain accepts against the genesis state; a replacement equal to the leaked key, or named by another governor,
/// is refused before signing, and that governor's revocation alone builds and checks.
#[test]
fn mark_key_compromised_builds_a_transaction_the_chain_accepts() {
    let dir = tempfile::tempdir().expect("temp dir");
    let d = dir.path();
    ceremony(d);
    ok(d, &["keygen", "--out", "ops1-new.pem"]);
    let common = ["--key", "ops1.pem", "--sender", "ops1", "--valid-until", "50", "--genesis", "genesis.json"];
    let mut build = vec!["tx", "build", "mark-key-compromised", "--account", "ops1", "--leaked", "ops1.pem"];
    build.extend_from_slice(&["--replacement", "ops1-new.pem", "--out", "compromised.json"]);
    build.extend_from_slice(&common);
    ok(d, &build);
    let signed: SignedTransaction =
        serde_json::from_str(&std::fs::read_to_string(d.join("compromised.json")).expect("tx")).expect("a transaction");
    let genesis = load_genesis(&d.join("genesis.json"));
    let state = genesis_state(&genesis);
    execution::check_transaction(&state, &signed, encode(&signed).len()).expect("the report checks");
    let shown = ok(d, &["tx", "show", "compromised.json", "--genesis", "genesis.json"]);
    assert!(shown.contains("compromised"), "{shown}");

    let mut same = vec!["tx", "build", "mark-key-compromised", "--account", "ops1", "--leaked", "ops1.pem"];
    same.extend_from_slice(&["--replacement", "ops1.pem", "--out", "same.json"]);
    same.extend_from_slice(&common);
    fails(d, &same, "is the leaked key");
    assert!(!d.join("same.json").exists());

    // Another governor revokes the key but never names its replacement: only the holder or the committee does.
    let by_governor = ["--key", "gov1.pem", "--sender", "gov1", "--valid-until", "50", "--genesis", "genesis.json"];
    let mut taken = vec!["tx", "build", "mark-key-compromised", "--account", "ops1", "--leaked", "ops1.pem"];
    taken.extend_from_slice(&["--replacement", "ops1-new.pem", "--out", "taken.json"]);
    taken.extend_from_slice(&by_governor);
    fails(d, &taken, "only ops1 itself gives a --replacement");
    assert!(!d.join("taken.json").exists());
    let mut revoked = vec!["tx", "build", "mark-key-compromised", "--account", "ops1", "--leaked", "ops1.pem"];
    revoked.extend_from_slice(&["--out", "revoked.json"]);
    revoked.extend_from_slice(&by_governor);
    ok(d, &revoked);
    let signed: SignedTransaction =
        serde_json::from_str(&std::fs::read_to_string(d.join("revoked.json")).expect("tx")).expect("a transaction");
    execution::check_transaction(&state, &signed, encode(&signed).len()).expect("the governor's revocation checks");
}

/// `synod login sign` shows a console's challenge and signs its console-login digest for the genesis's chain with
/// the key given; a challenge that is not one is refused with a clear error.
#[test]
fn login_sign_signs_the_console_challenge_for_this_chain() {
    use governance_contracts::{
        codec::{self, BoundedString},
        types::LoginChallenge,
    };
    let dir = tempfile::tempdir().expect("temp dir");
    let d = dir.path();
    ceremony(d);
    let genesis = load_genesis(&d.join("genesis.json"));
    let challenge = LoginChallenge {
        account: "gov1".parse().expect("account id"),
        origin: BoundedString::try_new("https://console.org1.example").expect("short"),
        nonce: [9; 32],
        expires_at_ms: 1_900_000_000_000,
    };
    let hex_text = hex::encode(codec::encode(&challenge));
    let signed = json(d, &["login", "sign", &hex_text, "--key", "gov1.pem", "--genesis", "genesis.json", "--json"]);
    assert_eq!(signed["origin"], "https://console.org1.example");
    let signature: governance_contracts::crypto::Signature =
        signed["signature"].as_str().expect("signature").parse().expect("signature text");
    let key = public_key(&ok(d, &["key", "show", "gov1.pem"]));
    assert!(key.verify(&challenge.signing_digest(&genesis.identity()), &signature));
    fails(
        d,
        &["login", "sign", "00ff", "--key", "gov1.pem", "--genesis", "genesis.json"],
        "not a console login challenge",
    );
}

/// `synod proposal show` prints a proposal's text in plain ASCII, every other character escaped (`\u{430}` for
/// the Cyrillic look-alike of `a`, a bidirectional override made visible), warns that the chain refuses it, and
/// still prints the digest of the text as it is: the id `--json` gives and the chain computes.
#[test]
fn proposal_show_escapes_non_ascii_and_keeps_the_digest() {
    let dir = tempfile::tempdir().expect("temp dir");
    let d = dir.path();
    ceremony(d);
    // Written by hand, as someone hoping a signer will not notice: the draft command refuses such text.
    let proposal = serde_json::json!({
        "proposer": { "account": "gov1" },
        "title": "Admit p\u{430}ypal",
        "description": "Approved by Org1的提案\nsee \u{202E}txt.exe",
        "actions": [{ "action": "set_member_weight", "member": "org2", "expected": 1, "weight": 2 }],
        "expires_at": 500,
        "salt": 7,
    });
    std::fs::write(d.join("look-alike.json"), proposal.to_string()).expect("write the proposal");
    let out = synod(d, &["proposal", "show", "look-alike.json", "--genesis", "genesis.json"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(out.stdout.is_ascii(), "not plain ASCII: {}", String::from_utf8_lossy(&out.stdout));
    let text = String::from_utf8(out.stdout).expect("ASCII is UTF-8");
    assert!(text.contains("title:        Admit p\\u{430}ypal"), "{text}");
    assert!(text.contains("description:  Approved by Org1\\u{7684}\\u{63d0}\\u{6848}\n"), "{text}");
    assert!(text.contains("\n              see \\u{202e}txt.exe\n"), "{text}");
    assert!(text.contains("WARNING:      the chain refuses this proposal: title: word 2"), "{text}");

    let genesis = load_genesis(&d.join("genesis.json"));
    let parsed: governance_contracts::types::Proposal = serde_json::from_value(proposal).expect("a proposal");
    let id = parsed.id(&genesis.identity());
    assert!(text.contains(&format!("proposal id:  {id}")), "{text}");
    let shown = json(d, &["proposal", "show", "look-alike.json", "--genesis", "genesis.json", "--json"]);
    assert_eq!(shown["proposal_id"].as_str(), Some(id.to_string().as_str()));
    assert_eq!(shown["proposal"]["title"].as_str(), Some("Admit p\u{430}ypal"), "the file's text, unchanged");
}

/// The CLI refuses what the chain would refuse before writing anything, saying which flag, which character and
/// why: a look-alike word in a title, a hidden character in a description or an organisation's name, and a
/// malformed node address; plain Chinese and English text is drafted.
#[test]
fn unsafe_text_and_bad_addresses_are_refused_before_drafting() {
    let dir = tempfile::tempdir().expect("temp dir");
    let d = dir.path();
    ceremony(d);
    let draft = |title: &str, description: &str, out: &str| -> Vec<String> {
        let mut args: Vec<String> =
            ["proposal", "draft", "--proposer", "gov1", "--expires-at", "500"].into_iter().map(str::to_owned).collect();
        args.extend(["--title".to_owned(), title.to_owned(), "--description".to_owned(), description.to_owned()]);
        args.extend(["--out", out, "suspend-member", "--member", "org2"].map(str::to_owned));
        args
    };
    fn run(args: &[String]) -> Vec<&str> {
        args.iter().map(String::as_str).collect()
    }
    let args = draft("Suspend p\u{430}ypal", "", "bad.json");
    let error = fails(d, &run(&args), "--title \"Suspend p\\u{430}ypal\": word 2");
    assert!(error.contains("mixes the Latin and Cyrillic scripts"), "{error}");
    let args = draft("Suspend org2", "fine\u{200B}print", "bad.json");
    fails(d, &run(&args), "--description \"fine\\u{200b}print\": character 5 is U+200B, an invisible format");
    assert!(!d.join("bad.json").exists());
    let args = draft("暂停 org2 成员资格", "Org1的提案\nsecond line", "good.json");
    ok(d, &run(&args));

    let admit = ["proposal", "draft", "--proposer", "gov1", "--expires-at", "500", "--out", "n.json", "admit-node"];
    let mut bad_address = admit.to_vec();
    bad_address.extend(["--node", "n9", "--owner", "org1", "--key", "node1.pem", "--address", "n9.example:0"]);
    fails(d, &bad_address, "--address \"n9.example:0\": the port \"0\"");
    let mut org = vec!["org", "init", "--member", "org3", "--governor", "gov3=gov1.pem", "--out", "org3.json"];
    org.extend(["--name", "Org\u{2066}3"]);
    fails(d, &org, "--name \"Org\\u{2066}3\": character 4 is U+2066, a bidirectional control");
}

/// A key file that is empty, cut short, or of another algorithm (RSA, made by `openssl genpkey`), read by
/// `key show` and by `tx build --key`, gives one line: the file, then one sentence naming the problem and the key
/// Synod needs, without a parser's jargon or an object identifier.
#[test]
fn bad_key_files_give_one_clear_sentence() {
    let dir = tempfile::tempdir().expect("temp dir");
    let d = dir.path();
    ok(d, &["keygen", "--out", "good.pem"]);
    let genesis = serde_json::to_vec(&governance_contracts::testkit::genesis(4)).expect("JSON");
    std::fs::write(d.join("genesis.json"), genesis).expect("w");
    let good = std::fs::read_to_string(d.join("good.pem")).expect("read");
    std::fs::write(d.join("empty.pem"), "").expect("w");
    let cut: String = good.lines().take(1).map(|line| format!("{line}\n")).collect::<String>() + &good[28..60];
    std::fs::write(d.join("cut.pem"), cut).expect("w");
    let mut cases = vec![
        ("empty.pem", "the key file is empty"),
        ("cut.pem", "the key file is cut short: its private key block has no \"-----END PRIVATE KEY-----\" line"),
    ];
    if has_openssl() {
        let made = Command::new("openssl")
            .args(["genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:1024", "-out", "rsa.pem"])
            .current_dir(d)
            .output()
            .expect("openssl runs");
        assert!(made.status.success(), "{}", String::from_utf8_lossy(&made.stderr));
        cases.push(("rsa.pem", "the key file holds a private key for RSA, not for Ed25519"));
    }
    let needed = "; Synod needs an unencrypted Ed25519 private key in PKCS#8 PEM, as `synod keygen` or `openssl \
                  genpkey -algorithm ed25519` writes";
    for (file, problem) in cases {
        let cancel = ["tx", "build", "cancel", "--proposal", &format!("sha256:{}", "ab".repeat(32))];
        let built = [
            &cancel[..],
            &[
                "--sender",
                "m0-gov",
                "--key",
                file,
                "--genesis",
                "genesis.json",
                "--valid-until",
                "9",
                "--out",
                "tx.json",
            ],
        ]
        .concat();
        for args in [&["key", "show", file][..], &built] {
            let stderr = fails(d, args, problem);
            assert_eq!(stderr.trim_end(), format!("error: {file}: {problem}{needed}"), "synod {args:?}");
            for jargon in ["NUL", "encapsulation", "1.2.840", "PKCS#8 key"] {
                assert!(!stderr.contains(jargon), "{jargon:?} in {stderr}");
            }
        }
    }
}

/// `--expires-at +300`, `--until +50`, `--valid-until +20` and `--proof-expires-at +40` count from the height
/// the node at `--node-url` reports (3), absolute heights are taken as given, and a relative height without a node
/// is refused saying what to pass.
#[test]
fn relative_heights_count_from_the_nodes_height() {
    let node = Served::start(true);
    let dir = tempfile::tempdir().expect("temp dir");
    let d = dir.path();
    let url = node.base.as_str();
    let draft = |extra: &[&str]| {
        let args = [&["proposal", "draft", "--proposer", "m0-gov", "--out", "p.json", "--force", "--json"][..], extra]
            .concat();
        let out = synod(d, &args);
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let grant = ["grant-role", "--account", "m0-auditor", "--role", "auditor", "--until", "+50"];
    let (success, stdout, stderr) = draft(&[&["--expires-at", "+300", "--node-url", url][..], &grant].concat());
    assert!(success, "{stderr}");
    let view: Value = serde_json::from_str(&stdout).expect("JSON output");
    assert_eq!(view["proposal"]["expires_at"], 303, "{view}");
    assert_eq!(view["proposal"]["actions"][0]["expires_at"], 53, "{view}");
    let (success, stdout, stderr) = draft(&["--expires-at", "400", "freeze", "--account", "m0-auditor"]);
    assert!(success, "{stderr}");
    assert_eq!(serde_json::from_str::<Value>(&stdout).expect("JSON")["proposal"]["expires_at"], 400);
    let out = Command::new(env!("CARGO_BIN_EXE_synod"))
        .args(["proposal", "draft", "--proposer", "m0-gov", "--expires-at", "+300", "--out", "q.json"])
        .args(["freeze", "--account", "x"])
        .current_dir(d)
        .env_remove("SYNOD_NODE")
        .output()
        .expect("synod runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("--expires-at +300 counts from the chain's current height: give --node-url URL"),
        "{stderr}"
    );

    std::fs::write(d.join("genesis.json"), serde_json::to_vec(&node.genesis).expect("JSON")).expect("w");
    let pem = governance_contracts::testkit::secret("m0-gov").to_pkcs8_pem().expect("PEM");
    std::fs::write(d.join("gov.pem"), pem).expect("w");
    ok(d, &["keygen", "--out", "new.pem"]);
    let built = json(
        d,
        &[
            "tx",
            "build",
            "rotate-account-key",
            "--new-key",
            "new.pem",
            "--proof-expires-at",
            "+40",
            "--sender",
            "m0-gov",
            "--key",
            "gov.pem",
            "--genesis",
            "genesis.json",
            "--valid-until",
            "+20",
            "--node-url",
            url,
            "--out",
            "tx.json",
            "--json",
        ],
    );
    let tx = &built["transaction"]["tx"];
    assert_eq!(tx["valid_until"], 23, "{built}");
    assert_eq!(tx["payload"]["proof"]["body"]["expires_at"], 43, "{built}");
}

/// `synod policy` prints every rule whole, in words with its fraction of seated weight and its delay, and
/// `synod nodes` prints every node's key whole, as the real node API serves them.
#[test]
fn read_commands_print_whole_rules_and_keys() {
    let node = Served::start(true);
    let dir = tempfile::tempdir().expect("temp dir");
    let d = dir.path();
    let policy = ok(d, &["policy", "--node", &node.base]);
    let rules = governance_contracts::types::default_policy();
    assert_eq!(policy.lines().count(), rules.len(), "{policy}");
    for (kind, rule) in rules {
        let kind = serde_json::to_value(kind).expect("JSON");
        let line = format!("{}  {rule}", kind.as_str().expect("a name"));
        assert!(policy.lines().any(|l| l.split_whitespace().eq(line.split_whitespace())), "{line} in {policy}");
    }
    assert!(policy.contains("at least 3/4 of seated weight, approved by governors of active members"), "{policy}");
    assert!(!policy.contains('…'), "{policy}");
    let nodes = ok(d, &["nodes", "--node", &node.base]);
    for id in ["n0", "n1", "n2", "n3"] {
        let key = governance_contracts::testkit::public(id).to_string();
        assert!(
            nodes.lines().any(|l| l.starts_with(&format!("{id}  ")) && l.contains(&format!("key={key}"))),
            "{key} in {nodes}"
        );
    }
}
