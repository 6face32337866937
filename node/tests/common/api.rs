//! The node's HTTP API served for a test: a real RocksDB store with committed blocks, the real router on
//! 127.0.0.1:0, and a test double in place of the runtime that answers submissions with the real mempool's
//! admission over the same store, publishes the status and announces blocks. The API's own tests and the clients'
//! tests (the CLI run as the real binary) share it, so a client is always tested against the server itself.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use governance_contracts::codec::{BoundedString, BoundedVec};
use governance_contracts::ids::{Height, ProposalId, TxHash, Weight};
use governance_contracts::testkit::{self, account};
use governance_contracts::types::{Action, Genesis, NewAccount, Payload, Principal, SignedTransaction};
use serde_json::Value;
use synod::mempool::Mempool;
use synod::rpc::bridge::{ApiState, ChainEvent, Command, NodeStatus};
use synod::storage::{CommittedBlock, NodeStore};
use tempfile::TempDir;
use tokio::sync::{broadcast, oneshot, watch};

use super::Producer;

/// What the chain holds after the three blocks every test starts from.
pub struct Known {
    /// `n1`'s readiness attestation, applied in block 1.
    pub attest: TxHash,
    /// The admission of `newco`, submitted in block 2 with two of three approvals: pending.
    pub admit: ProposalId,
    /// The transaction that submitted it.
    pub admit_tx: TxHash,
    /// The freeze of `m0-auditor`, executed in block 1.
    pub freeze: ProposalId,
}

/// One served API over a real store, with the runtime's side played by the test.
pub struct Served {
    pub runtime: tokio::runtime::Runtime,
    pub base: String,
    pub agent: ureq::Agent,
    pub store: NodeStore,
    pub producer: Producer,
    pub genesis: Genesis,
    pub known: Known,
    pub status: watch::Sender<NodeStatus>,
    pub events: broadcast::Sender<ChainEvent>,
    /// Transactions the double admitted.
    pub admitted: Arc<Mutex<Vec<SignedTransaction>>>,
    pub shutdown: Option<oneshot::Sender<()>>,
    pub server: Option<tokio::task::JoinHandle<std::io::Result<()>>>,
    pub dir: TempDir,
}

impl Served {
    /// Blocks 1–3 committed (block 1: attestation and a freeze of `m0-auditor` executed at once; block 2: the pending
    /// admission of `newco`; block 3: empty), then the API served; with `runtime_answers`, a double answers
    /// submissions, otherwise the command channel is closed (the runtime is gone).
    pub fn start(runtime_answers: bool) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let genesis = testkit::genesis(4);
        let mut store = NodeStore::open_with_genesis(&dir.path().join("db"), &genesis).expect("the store opens");
        let mut producer = Producer::new(genesis.clone());
        let ids = genesis.identity();

        let c = &mut producer.chain;
        let attest = c.node_tx("n1", Payload::AttestReadiness { synced_height: Height(0) });
        let freeze = c.proposal(
            Principal::Account(account("m0-compliance")),
            vec![Action::FreezeAccount { account: account("m0-auditor") }],
        );
        let freeze_tx = c.account_tx(
            "m0-compliance",
            Payload::SubmitProposal {
                proposal: freeze.clone(),
                approvals: BoundedVec::try_new(vec![c.approval(&freeze, "m0-compliance")]).expect("one approval"),
            },
        );
        let attest_hash = attest.tx.hash(&ids);
        let block = producer.next_block(vec![attest, freeze_tx]);
        store.commit_block(&block).expect("block 1 commits");

        let c = &mut producer.chain;
        let admit = c.proposal(
            Principal::Account(account("m0-gov")),
            vec![Action::AdmitMember {
                member: testkit::member("newco"),
                name: BoundedString::try_new("NewCo").expect("a short name"),
                weight: Weight(1),
                governors: BoundedVec::try_new(vec![NewAccount {
                    account: account("newco-gov"),
                    key: testkit::public("newco-gov"),
                }])
                .expect("one governor"),
            }],
        );
        let admit_tx = c.account_tx(
            "m0-gov",
            Payload::SubmitProposal {
                proposal: admit.clone(),
                approvals: BoundedVec::try_new(vec![c.approval(&admit, "m0-gov")]).expect("one approval"),
            },
        );
        let known = Known {
            attest: attest_hash,
            admit: admit.id(&ids),
            admit_tx: admit_tx.tx.hash(&ids),
            freeze: freeze.id(&ids),
        };
        let block = producer.next_block(vec![admit_tx]);
        store.commit_block(&block).expect("block 2 commits");
        let block = producer.next_block(Vec::new());
        store.commit_block(&block).expect("block 3 commits");

        let mut initial = NodeStatus::starting(&genesis, testkit::node("n0"));
        initial.height = Height(3);
        let (state, end) = ApiState::with_channels(genesis.clone(), store.reader(), initial);
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("a tokio runtime");
        let admitted = Arc::new(Mutex::new(Vec::new()));
        let mut commands = end.commands;
        if runtime_answers {
            let reader = store.reader();
            let admitted = Arc::clone(&admitted);
            runtime.spawn(async move {
                let mut mempool = Mempool::new();
                while let Some(command) = commands.recv().await {
                    match command {
                        Command::SubmitTransaction { tx, reply } => {
                            let tx = *tx;
                            let answer = mempool.admit(&ids, &reader.live(), tx.clone());
                            if answer.is_ok() {
                                admitted.lock().expect("not poisoned").push(tx);
                            }
                            let _ = reply.send(answer);
                        }
                    }
                }
            });
        } else {
            drop(commands);
        }
        let listener = runtime
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .expect("a free port on the loopback interface");
        let base = format!("http://{}", listener.local_addr().expect("bound"));
        let (shutdown, stop) = oneshot::channel::<()>();
        let server = runtime.spawn(synod::rpc::serve(listener, state, async move {
            let _ = stop.await;
        }));
        let agent = ureq::Agent::config_builder()
            .timeout_global(Some(Duration::from_secs(30)))
            .http_status_as_error(false)
            .build()
            .into();
        Self {
            runtime,
            base,
            agent,
            store,
            producer,
            genesis,
            known,
            status: end.status,
            events: end.events,
            admitted,
            shutdown: Some(shutdown),
            server: Some(server),
            dir,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// `GET path`: the status and the body as JSON (`Null` when it is not JSON).
    pub fn get(&self, path: &str) -> (u16, Value) {
        let (status, text) = self.get_text(path);
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    pub fn get_text(&self, path: &str) -> (u16, String) {
        let mut response = self.agent.get(&self.url(path)).call().expect("the server answers");
        let status = response.status().as_u16();
        let text = response.body_mut().with_config().limit(16 << 20).read_to_string().expect("a text body");
        (status, text)
    }

    /// `POST path` with `body` as `content_type`: the status and the body as JSON.
    pub fn post(&self, path: &str, content_type: &str, body: &[u8]) -> (u16, Value) {
        let mut response = self
            .agent
            .post(&self.url(path))
            .header("content-type", content_type)
            .send(body)
            .expect("the server answers");
        let status = response.status().as_u16();
        let text = response.body_mut().read_to_string().expect("a text body");
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    /// Commits the next block with `txs` and announces it as the runtime does.
    pub fn commit(&mut self, txs: Vec<SignedTransaction>) -> CommittedBlock {
        let block = self.producer.next_block(txs);
        self.store.commit_block(&block).expect("the block commits");
        let event = ChainEvent::from_committed(&self.genesis.identity(), &block.block, &block.receipts);
        let _ = self.events.send(event);
        block
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        if let Some(server) = self.server.take() {
            let _ = self.runtime.block_on(async { tokio::time::timeout(Duration::from_secs(10), server).await });
        }
    }
}
