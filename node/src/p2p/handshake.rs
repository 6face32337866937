//! The authenticated handshake (ADR 0004).
//!
//! 1. **Noise XX** (`Noise_XX_25519_ChaChaPoly_SHA256`, prologue [`PROLOGUE`]) with a static X25519 transport key
//!    drawn fresh for each process ([`TransportKey`]). Afterwards both sides share a handshake hash that binds
//!    both ephemeral and both static keys, and each knows the other's static key.
//! 2. **Statements.** Each side sends, as its first encrypted frame, a [`SignedStatement`]: the
//!    [`HandshakeStatement`] (handshake hash, its own transport key, its node key) signed by its node key over
//!    `statement.signing_digest(chain)`, which binds the p2p-handshake domain, the chain id and the genesis hash.
//!    The dialling side sends first; the listening side checks it and the peer's admission before it says who it
//!    is, so an unadmitted dialler learns nothing about the listener's node key and never receives a frame.
//! 3. **Checks** ([`check_statement`], then admission): the signature verifies under the stated node key, the
//!    stated transport key is the Noise remote static key, the stated hash is ours; the node key is admitted now
//!    ([`super::Admission::may_connect`]); it is not our own node; and, for the dialling side, it belongs to the
//!    node we meant to dial. Any failure is a [`Refused`] with its [`RefusalKind`].
//!
//! The listening side gives the first Noise message its own deadline (whoever reaches the port can open a
//! connection, so one that says nothing gives its slot back soon); the caller bounds the whole exchange with a
//! timeout. Everything here is generic over the byte stream and free
//! of storage types, so it can be driven from a test socket or a fuzz target.

use std::sync::Arc;
use std::time::Duration;

use borsh::{BorshDeserialize, BorshSerialize};
use governance_contracts::crypto::{PublicKey, SecretKey, Signature};
use governance_contracts::domain::ChainIdentity;
use governance_contracts::execution::Refusal;
use governance_contracts::ids::NodeId;
use governance_contracts::types::session::HandshakeStatement;
use snow::{Builder, HandshakeState, StatelessTransportState};
use tokio::io::{AsyncRead, AsyncWrite, ReadHalf, WriteHalf};

use super::frame::{self, FrameError, FrameReader, FrameWriter, NOISE_MAX_MESSAGE};
use super::{Admission, AdmissionError};

/// The Noise protocol name.
pub const NOISE_PARAMS: &str = "Noise_XX_25519_ChaChaPoly_SHA256";
/// The Noise prologue: both sides must agree on it, so it names the protocol and its version.
pub const PROLOGUE: &[u8] = b"synod/v1/p2p";
/// Largest statement frame accepted (a statement encodes to about 170 bytes).
pub const MAX_STATEMENT_BYTES: usize = 1_024;

/// Why a handshake refused its peer. Each kind is counted separately.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum RefusalKind {
    /// The statement frame does not decode.
    BadStatement,
    /// The statement's signature does not verify under its node key (a wrong key, or a statement made for
    /// another chain id or genesis).
    BadSignature,
    /// The statement names a transport key other than the one the Noise handshake authenticated.
    TransportKeyMismatch,
    /// The statement names another handshake (a replayed statement).
    HandshakeHashMismatch,
    /// The node key was never registered to a node.
    UnknownKey,
    /// The key belongs to an account.
    NotANodeKey,
    /// The key was rotated away.
    RetiredKey,
    /// The key was revoked.
    RevokedKey,
    /// The node was removed.
    RemovedNode,
    /// The node's owner was expelled.
    OwnerExpelled,
    /// The admission check could not be made (the node's state was unreadable).
    AdmissionUnavailable,
    /// The peer presented this node's own identity.
    OwnNode,
    /// The dialled peer is another node than the one dialled.
    UnexpectedNode,
}

impl RefusalKind {
    /// A stable snake_case label for logs and metrics.
    pub fn label(self) -> &'static str {
        match self {
            Self::BadStatement => "bad_statement",
            Self::BadSignature => "bad_signature",
            Self::TransportKeyMismatch => "transport_key_mismatch",
            Self::HandshakeHashMismatch => "handshake_hash_mismatch",
            Self::UnknownKey => "unknown_key",
            Self::NotANodeKey => "not_a_node_key",
            Self::RetiredKey => "retired_key",
            Self::RevokedKey => "revoked_key",
            Self::RemovedNode => "removed_node",
            Self::OwnerExpelled => "owner_expelled",
            Self::AdmissionUnavailable => "admission_unavailable",
            Self::OwnNode => "own_node",
            Self::UnexpectedNode => "unexpected_node",
        }
    }
}

impl std::fmt::Display for RefusalKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.label())
    }
}

impl From<&AdmissionError> for RefusalKind {
    fn from(error: &AdmissionError) -> Self {
        match error {
            AdmissionError::Refused(refusal) => match refusal {
                Refusal::UnknownKey => Self::UnknownKey,
                Refusal::NotANodeKey => Self::NotANodeKey,
                Refusal::Retired(_) => Self::RetiredKey,
                Refusal::Revoked(_) => Self::RevokedKey,
                Refusal::Removed(_) => Self::RemovedNode,
                Refusal::OwnerExpelled(_) => Self::OwnerExpelled,
            },
            AdmissionError::Unavailable(_) => Self::AdmissionUnavailable,
        }
    }
}

/// A refusal: its kind and a readable reason.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{kind}: {detail}")]
pub struct Refused {
    /// The kind, for counting.
    pub kind: RefusalKind,
    /// The reason, for the log.
    pub detail: String,
}

impl Refused {
    fn new(kind: RefusalKind, detail: impl Into<String>) -> Self {
        Self { kind, detail: detail.into() }
    }
}

/// Why a handshake failed.
#[derive(Debug, thiserror::Error)]
pub enum HandshakeError {
    /// The peer was refused.
    #[error("peer refused: {0}")]
    Refused(Refused),
    /// The Noise handshake failed (bad message, failed key agreement).
    #[error("noise handshake failed: {0}")]
    Noise(String),
    /// Reading or writing a frame failed (including the peer closing the connection).
    #[error(transparent)]
    Frame(#[from] FrameError),
    /// The peer closed the connection before the handshake completed.
    #[error("the peer closed the connection during the handshake")]
    Closed,
    /// The dialling side's first Noise message did not arrive before the deadline.
    #[error("the first handshake message did not arrive in time")]
    FirstMessageTimeout,
    /// The listening peer closed the connection after reading our statement, without its own: it refused our
    /// node key (an admitted listener never says why, so an unadmitted dialler learns nothing).
    #[error("the peer closed the connection after our statement: it did not admit our key")]
    Unanswered,
}

fn noise(e: snow::Error) -> HandshakeError {
    HandshakeError::Noise(e.to_string())
}

/// This process's static Noise key: X25519, drawn fresh at start, never written anywhere.
pub struct TransportKey {
    private: Vec<u8>,
    public: [u8; 32],
}

impl TransportKey {
    /// A fresh key from the operating system's randomness.
    pub fn generate() -> Result<Self, HandshakeError> {
        let params = NOISE_PARAMS.parse().map_err(noise)?;
        let pair = Builder::new(params).generate_keypair().map_err(noise)?;
        let public: [u8; 32] = pair
            .public
            .as_slice()
            .try_into()
            .map_err(|_| HandshakeError::Noise("public key is not 32 bytes".into()))?;
        Ok(Self { private: pair.private, public })
    }

    /// The public half (what peers see as our Noise static key).
    pub fn public(&self) -> [u8; 32] {
        self.public
    }
}

impl std::fmt::Debug for TransportKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TransportKey(")?;
        for byte in self.public {
            write!(f, "{byte:02x}")?;
        }
        f.write_str(")")
    }
}

/// A [`HandshakeStatement`] with its node key's signature: the first frame each side sends.
#[derive(Debug, Clone, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct SignedStatement {
    /// What is signed.
    pub statement: HandshakeStatement,
    /// The node key's signature over `statement.signing_digest(chain)`.
    pub signature: Signature,
}

impl SignedStatement {
    /// The statement for a handshake with hash `handshake_hash`, signed with `key`.
    pub fn sign(chain: &ChainIdentity, key: &SecretKey, handshake_hash: [u8; 32], transport_key: [u8; 32]) -> Self {
        let statement = HandshakeStatement { handshake_hash, transport_key, node_key: key.public_key() };
        let signature = key.sign(&statement.signing_digest(chain));
        Self { statement, signature }
    }
}

/// Checks a received statement frame against this handshake: it decodes, its signature verifies under its node key
/// for `chain`, it names the Noise remote static key and our handshake hash. Returns the peer's node key.
pub fn check_statement(
    chain: &ChainIdentity,
    frame: &[u8],
    handshake_hash: &[u8; 32],
    remote_static: &[u8; 32],
) -> Result<PublicKey, Refused> {
    let signed: SignedStatement = borsh::from_slice(frame)
        .map_err(|e| Refused::new(RefusalKind::BadStatement, format!("undecodable statement: {e}")))?;
    let statement = &signed.statement;
    if !statement.node_key.verify(&statement.signing_digest(chain), &signed.signature) {
        return Err(Refused::new(
            RefusalKind::BadSignature,
            format!("the statement of {} does not verify for this chain", statement.node_key),
        ));
    }
    if &statement.transport_key != remote_static {
        return Err(Refused::new(RefusalKind::TransportKeyMismatch, "the statement names another transport key"));
    }
    if &statement.handshake_hash != handshake_hash {
        return Err(Refused::new(RefusalKind::HandshakeHashMismatch, "the statement is for another handshake"));
    }
    Ok(statement.node_key)
}

/// Asks `admission` about `key` and applies the identity rules: not our own node, and (when dialling) the node
/// we meant to reach.
pub fn admit(
    admission: &dyn Admission,
    key: &PublicKey,
    local: &NodeId,
    local_key: &PublicKey,
    expected: Option<&NodeId>,
) -> Result<NodeId, Refused> {
    if key == local_key {
        return Err(Refused::new(RefusalKind::OwnNode, "the peer presented this node's own key"));
    }
    let node = admission.may_connect(key).map_err(|e| Refused::new(RefusalKind::from(&e), e.to_string()))?;
    if &node == local {
        return Err(Refused::new(RefusalKind::OwnNode, format!("key {key} belongs to this node")));
    }
    if let Some(expected) = expected
        && &node != expected
    {
        return Err(Refused::new(RefusalKind::UnexpectedNode, format!("dialled {expected} but reached {node}")));
    }
    Ok(node)
}

/// Who this side is in a handshake.
#[derive(Clone, Copy)]
pub struct Identity<'a> {
    /// The chain.
    pub chain: &'a ChainIdentity,
    /// Our node id.
    pub node: &'a NodeId,
    /// Our node key (signs the statement).
    pub key: &'a SecretKey,
    /// Our Noise static key.
    pub transport: &'a TransportKey,
}

/// A Noise session after the three handshake messages, before statements: its frame halves, the handshake
/// hash and the peer's static key.
pub struct NoiseLink<S> {
    /// Reads frames from the peer.
    pub reader: FrameReader<ReadHalf<S>>,
    /// Writes frames to the peer.
    pub writer: FrameWriter<WriteHalf<S>>,
    /// The handshake hash both sides share.
    pub handshake_hash: [u8; 32],
    /// The peer's Noise static key.
    pub remote_static: [u8; 32],
}

/// A connection whose peer proved its node key and was admitted.
pub struct Established<S> {
    /// The peer's node id.
    pub peer: NodeId,
    /// The node key it proved.
    pub peer_key: PublicKey,
    /// Reads its frames.
    pub reader: FrameReader<ReadHalf<S>>,
    /// Writes frames to it.
    pub writer: FrameWriter<WriteHalf<S>>,
}

fn builder<'a>(transport: &'a TransportKey) -> Result<Builder<'a>, HandshakeError> {
    let params = NOISE_PARAMS.parse().map_err(noise)?;
    Builder::new(params).local_private_key(&transport.private).map_err(noise)?.prologue(PROLOGUE).map_err(noise)
}

async fn send<S: AsyncWrite + Unpin>(
    io: &mut S,
    state: &mut HandshakeState,
    buffer: &mut [u8; NOISE_MAX_MESSAGE],
) -> Result<(), HandshakeError> {
    let len = state.write_message(&[], &mut buffer[..]).map_err(noise)?;
    frame::write_message(io, &buffer[..len]).await?;
    Ok(())
}

async fn receive<S: AsyncRead + Unpin>(
    io: &mut S,
    state: &mut HandshakeState,
    buffer: &mut [u8; NOISE_MAX_MESSAGE],
) -> Result<(), HandshakeError> {
    let len = frame::read_message(io, buffer).await?.ok_or(HandshakeError::Closed)?;
    // The handshake messages carry no payload; a peer that sends one larger than this fails the read.
    let mut payload = [0u8; 256];
    let message = buffer.get(..len).ok_or(HandshakeError::Closed)?;
    let read = state.read_message(message, &mut payload).map_err(noise)?;
    if read != 0 {
        return Err(HandshakeError::Noise("unexpected handshake payload".into()));
    }
    Ok(())
}

fn finish<S: AsyncRead + AsyncWrite>(
    io: S,
    state: HandshakeState,
    max_frame: usize,
) -> Result<NoiseLink<S>, HandshakeError> {
    let handshake_hash: [u8; 32] = state
        .get_handshake_hash()
        .try_into()
        .map_err(|_| HandshakeError::Noise("handshake hash is not 32 bytes".into()))?;
    let remote_static: [u8; 32] = state
        .get_remote_static()
        .and_then(|k| k.try_into().ok())
        .ok_or_else(|| HandshakeError::Noise("no 32-byte remote static key".into()))?;
    let session: Arc<StatelessTransportState> = Arc::new(state.into_stateless_transport_mode().map_err(noise)?);
    let (read, write) = tokio::io::split(io);
    Ok(NoiseLink {
        reader: FrameReader::new(read, Arc::clone(&session), max_frame),
        writer: FrameWriter::new(write, session),
        handshake_hash,
        remote_static,
    })
}

/// Runs the Noise XX messages as the dialling side.
pub async fn noise_initiator<S: AsyncRead + AsyncWrite + Unpin>(
    mut io: S,
    transport: &TransportKey,
    max_frame: usize,
) -> Result<NoiseLink<S>, HandshakeError> {
    let mut state = builder(transport)?.build_initiator().map_err(noise)?;
    let mut buffer = Box::new([0u8; NOISE_MAX_MESSAGE]);
    send(&mut io, &mut state, &mut buffer).await?;
    receive(&mut io, &mut state, &mut buffer).await?;
    send(&mut io, &mut state, &mut buffer).await?;
    finish(io, state, max_frame)
}

/// Runs the Noise XX messages as the listening side; the first must arrive within `first_message`.
pub async fn noise_responder<S: AsyncRead + AsyncWrite + Unpin>(
    mut io: S,
    transport: &TransportKey,
    max_frame: usize,
    first_message: Duration,
) -> Result<NoiseLink<S>, HandshakeError> {
    let mut state = builder(transport)?.build_responder().map_err(noise)?;
    let mut buffer = Box::new([0u8; NOISE_MAX_MESSAGE]);
    tokio::time::timeout(first_message, receive(&mut io, &mut state, &mut buffer))
        .await
        .map_err(|_| HandshakeError::FirstMessageTimeout)??;
    send(&mut io, &mut state, &mut buffer).await?;
    receive(&mut io, &mut state, &mut buffer).await?;
    finish(io, state, max_frame)
}

async fn send_statement<S: AsyncRead + AsyncWrite>(
    link: &mut NoiseLink<S>,
    me: Identity<'_>,
) -> Result<(), HandshakeError> {
    let signed = SignedStatement::sign(me.chain, me.key, link.handshake_hash, me.transport.public());
    link.writer.write_frame(&borsh::to_vec(&signed).map_err(FrameError::Io)?).await?;
    Ok(())
}

async fn receive_statement<S: AsyncRead + AsyncWrite>(
    link: &mut NoiseLink<S>,
    me: Identity<'_>,
    admission: &dyn Admission,
    expected: Option<&NodeId>,
    max_frame: usize,
) -> Result<(NodeId, PublicKey), HandshakeError> {
    link.reader.set_max(MAX_STATEMENT_BYTES);
    let frame = link.reader.next_frame().await?.ok_or(HandshakeError::Closed)?;
    link.reader.set_max(max_frame);
    let key = check_statement(me.chain, &frame, &link.handshake_hash, &link.remote_static)
        .map_err(HandshakeError::Refused)?;
    let node = admit(admission, &key, me.node, &me.key.public_key(), expected).map_err(HandshakeError::Refused)?;
    Ok((node, key))
}

/// The whole handshake as the dialling side, expecting to reach `expected`.
pub async fn initiate<S: AsyncRead + AsyncWrite + Unpin>(
    io: S,
    me: Identity<'_>,
    admission: &dyn Admission,
    expected: &NodeId,
    max_frame: usize,
) -> Result<Established<S>, HandshakeError> {
    let mut link = noise_initiator(io, me.transport, max_frame).await?;
    send_statement(&mut link, me).await?;
    let (peer, peer_key) = match receive_statement(&mut link, me, admission, Some(expected), max_frame).await {
        Err(HandshakeError::Closed | HandshakeError::Frame(FrameError::Truncated | FrameError::Io(_))) => {
            return Err(HandshakeError::Unanswered);
        }
        other => other?,
    };
    Ok(Established { peer, peer_key, reader: link.reader, writer: link.writer })
}

/// The whole handshake as the listening side: the peer's statement is checked, and the peer admitted, before ours
/// is sent. The peer's first Noise message must arrive within `first_message`.
pub async fn respond<S: AsyncRead + AsyncWrite + Unpin>(
    io: S,
    me: Identity<'_>,
    admission: &dyn Admission,
    max_frame: usize,
    first_message: Duration,
) -> Result<Established<S>, HandshakeError> {
    let mut link = noise_responder(io, me.transport, max_frame, first_message).await?;
    let (peer, peer_key) = receive_statement(&mut link, me, admission, None, max_frame).await?;
    send_statement(&mut link, me).await?;
    Ok(Established { peer, peer_key, reader: link.reader, writer: link.writer })
}

#[cfg(test)]
mod tests {
    use governance_contracts::crypto::Digest;
    use governance_contracts::testkit::{genesis, node, secret};

    use super::*;

    fn chain() -> ChainIdentity {
        genesis(2).identity()
    }

    fn frame(signed: &SignedStatement) -> Vec<u8> {
        borsh::to_vec(signed).unwrap()
    }

    /// A statement signed for this handshake passes and yields the signer's node key.
    #[test]
    fn a_correct_statement_passes() {
        let signed = SignedStatement::sign(&chain(), &secret("n0"), [1; 32], [2; 32]);
        assert_eq!(check_statement(&chain(), &frame(&signed), &[1; 32], &[2; 32]), Ok(secret("n0").public_key()));
        assert!(frame(&signed).len() < MAX_STATEMENT_BYTES);
    }

    /// Each broken property of a statement is refused with its own kind.
    #[test]
    fn each_broken_property_has_its_refusal() {
        let chain = chain();
        let kind = |bytes: &[u8]| check_statement(&chain, bytes, &[1; 32], &[2; 32]).unwrap_err().kind;
        assert_eq!(kind(b"garbage"), RefusalKind::BadStatement);
        let other_chain = ChainIdentity { genesis_hash: Digest::Sha256([9; 32]), ..chain.clone() };
        let wrong_chain = SignedStatement::sign(&other_chain, &secret("n0"), [1; 32], [2; 32]);
        assert_eq!(kind(&frame(&wrong_chain)), RefusalKind::BadSignature);
        let mut forged = SignedStatement::sign(&chain, &secret("n0"), [1; 32], [2; 32]);
        forged.statement.node_key = secret("n1").public_key();
        assert_eq!(kind(&frame(&forged)), RefusalKind::BadSignature);
        let other_transport = SignedStatement::sign(&chain, &secret("n0"), [1; 32], [3; 32]);
        assert_eq!(kind(&frame(&other_transport)), RefusalKind::TransportKeyMismatch);
        let replayed = SignedStatement::sign(&chain, &secret("n0"), [4; 32], [2; 32]);
        assert_eq!(kind(&frame(&replayed)), RefusalKind::HandshakeHashMismatch);
    }

    struct Fixed(Result<NodeId, Refusal>);

    impl Admission for Fixed {
        fn may_connect(&self, _key: &PublicKey) -> Result<NodeId, AdmissionError> {
            self.0.clone().map_err(AdmissionError::Refused)
        }

        fn dial_targets(&self) -> Vec<super::super::DialTarget> {
            Vec::new()
        }
    }

    /// Admission refusals map to their kinds; our own key or id, and an unexpected node, are refused.
    #[test]
    fn admission_and_identity_rules() {
        let me = node("n0");
        let my_key = secret("n0").public_key();
        let peer_key = secret("n1").public_key();
        let ok = Fixed(Ok(node("n1")));
        assert_eq!(admit(&ok, &peer_key, &me, &my_key, None), Ok(node("n1")));
        assert_eq!(admit(&ok, &peer_key, &me, &my_key, Some(&node("n1"))), Ok(node("n1")));
        assert_eq!(
            admit(&ok, &peer_key, &me, &my_key, Some(&node("n2"))).unwrap_err().kind,
            RefusalKind::UnexpectedNode
        );
        assert_eq!(admit(&ok, &my_key, &me, &my_key, None).unwrap_err().kind, RefusalKind::OwnNode);
        assert_eq!(
            admit(&Fixed(Ok(me.clone())), &peer_key, &me, &my_key, None).unwrap_err().kind,
            RefusalKind::OwnNode
        );
        let retired = Fixed(Err(Refusal::Retired(governance_contracts::ids::Height(4))));
        assert_eq!(admit(&retired, &peer_key, &me, &my_key, None).unwrap_err().kind, RefusalKind::RetiredKey);
        assert_eq!(
            admit(&Fixed(Err(Refusal::UnknownKey)), &peer_key, &me, &my_key, None).unwrap_err().kind,
            RefusalKind::UnknownKey
        );
    }
}
