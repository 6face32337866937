//! A conformance suite for [`super::Store`] implementations: the node runs it against RocksDB, the tests against
//! [`super::MemoryStore`].
