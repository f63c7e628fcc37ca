//! Reassembly of block proposals streamed as parts.
//!
//! A stream is `Init`, data chunks, the proposer's signed `Fin`, then the stream end marker.
//! Parts may arrive out of order and through different peers; they are grouped by publisher
//! and stream id. Everything is bounded: open streams, bytes per stream, parts per stream.

use std::collections::BTreeMap;

use malachitebft_core_types::Round;
use malachitebft_engine::util::streaming::{StreamContent, StreamId, StreamMessage};

use crate::context::{Address, BlockId, Height, ProposalPart};

/// A complete proposal stream.
#[derive(Clone, Debug)]
pub struct Assembled {
    pub height: Height,
    pub round: Round,
    pub pol_round: Round,
    pub proposer: Address,
    pub block_bytes: Vec<u8>,
    pub block_id: BlockId,
    pub signature: [u8; 64],
}

/// A stream that breaks the rules; its parts are dropped.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StreamError {
    #[error("stream exceeds {0} bytes")]
    TooLarge(usize),
    #[error("stream has too many parts")]
    TooManyParts,
    #[error("stream parts out of shape: {0}")]
    Shape(&'static str),
}

const PARTS_MAX: u64 = 4_096;

#[derive(Default)]
struct Stream {
    parts: BTreeMap<u64, StreamContent<ProposalPart>>,
    end: Option<u64>,
    bytes: usize,
    born: u64,
}

/// Open streams, keyed by publisher and stream id.
pub struct Streams {
    open: BTreeMap<(String, StreamId), Stream>,
    streams_max: usize,
    bytes_max: usize,
    clock: u64,
}

impl Streams {
    /// At most `streams_max` open streams of at most `bytes_max` bytes each.
    pub fn new(streams_max: usize, bytes_max: usize) -> Self {
        Self {
            open: BTreeMap::new(),
            streams_max,
            bytes_max,
            clock: 0,
        }
    }

    /// Adds a part; returns the proposal once its stream is complete.
    pub fn insert(
        &mut self,
        publisher: String,
        msg: StreamMessage<ProposalPart>,
    ) -> Result<Option<Assembled>, StreamError> {
        if msg.sequence >= PARTS_MAX {
            return Err(StreamError::TooManyParts);
        }
        self.clock += 1;
        let key = (publisher, msg.stream_id.clone());
        if !self.open.contains_key(&key) && self.open.len() >= self.streams_max {
            self.evict_oldest();
        }
        let born = self.clock;
        let stream = self.open.entry(key.clone()).or_insert_with(|| Stream {
            born,
            ..Stream::default()
        });
        if let StreamContent::Data(ProposalPart::Data(chunk)) = &msg.content {
            stream.bytes += chunk.len();
        }
        if stream.bytes > self.bytes_max {
            self.open.remove(&key);
            return Err(StreamError::TooLarge(self.bytes_max));
        }
        if msg.content.is_fin() {
            stream.end = Some(msg.sequence);
        }
        stream.parts.insert(msg.sequence, msg.content);
        let complete = stream
            .end
            .is_some_and(|end| stream.parts.len() as u64 == end + 1);
        if !complete {
            return Ok(None);
        }
        let stream = self.open.remove(&key).unwrap_or_default();
        assemble(stream).map(Some)
    }

    /// Drops streams for heights below `height` cannot be known without decoding; instead the
    /// oldest stream goes when room is needed.
    fn evict_oldest(&mut self) {
        let oldest = self
            .open
            .iter()
            .min_by_key(|(_, s)| s.born)
            .map(|(k, _)| k.clone());
        if let Some(key) = oldest {
            self.open.remove(&key);
        }
    }
}

fn assemble(stream: Stream) -> Result<Assembled, StreamError> {
    let mut parts = stream.parts.into_values();
    let Some(StreamContent::Data(ProposalPart::Init {
        height,
        round,
        pol_round,
        proposer,
    })) = parts.next()
    else {
        return Err(StreamError::Shape("first part is not Init"));
    };
    let mut block_bytes = Vec::with_capacity(stream.bytes);
    let mut fin = None;
    for part in parts {
        match (part, &fin) {
            (StreamContent::Data(ProposalPart::Data(chunk)), None) => {
                block_bytes.extend_from_slice(&chunk)
            }
            (
                StreamContent::Data(ProposalPart::Fin {
                    block_id,
                    signature,
                }),
                None,
            ) => fin = Some((block_id, signature)),
            (StreamContent::Fin, Some(_)) => {}
            _ => return Err(StreamError::Shape("parts after Fin or a second Init")),
        }
    }
    let Some((block_id, signature)) = fin else {
        return Err(StreamError::Shape("no signed Fin part"));
    };
    Ok(Assembled {
        height,
        round,
        pol_round,
        proposer,
        block_bytes,
        block_id,
        signature,
    })
}

/// Splits a block into stream messages: Init, chunks of `chunk_bytes`, signed Fin, end.
pub fn split(
    stream_id: StreamId,
    init: ProposalPart,
    block_bytes: &[u8],
    chunk_bytes: usize,
    fin: ProposalPart,
) -> Vec<StreamMessage<ProposalPart>> {
    let mut contents = vec![StreamContent::Data(init)];
    for chunk in block_bytes.chunks(chunk_bytes.max(1)) {
        contents.push(StreamContent::Data(ProposalPart::Data(chunk.to_vec())));
    }
    contents.push(StreamContent::Data(fin));
    contents.push(StreamContent::Fin);
    contents
        .into_iter()
        .enumerate()
        .map(|(seq, content)| StreamMessage::new(stream_id.clone(), seq as u64, content))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;

    fn sample(chunk: usize) -> Vec<StreamMessage<ProposalPart>> {
        let init = ProposalPart::Init {
            height: Height(3),
            round: Round::new(1),
            pol_round: Round::Nil,
            proposer: Address([7; 20]),
        };
        let fin = ProposalPart::Fin {
            block_id: BlockId([9; 32]),
            signature: [5; 64],
        };
        let block: Vec<u8> = (0..1000u32).map(|i| i as u8).collect();
        split(
            StreamId::new(Bytes::from_static(b"s")),
            init,
            &block,
            chunk,
            fin,
        )
    }

    #[test]
    fn test_stream_reassembles_in_any_order() {
        let mut parts = sample(100);
        parts.reverse();
        let mut streams = Streams::new(8, 10_000);
        let mut done = None;
        for part in parts {
            if let Some(a) = streams.insert("p".into(), part).unwrap() {
                done = Some(a);
            }
        }
        let assembled = done.expect("stream completes");
        assert_eq!(assembled.height, Height(3));
        assert_eq!(assembled.block_bytes.len(), 1000);
        assert_eq!(assembled.block_bytes[999], (999u32 as u8));
        assert_eq!(assembled.block_id, BlockId([9; 32]));
    }

    #[test]
    fn test_stream_over_byte_limit_is_dropped() {
        let mut streams = Streams::new(8, 500);
        let result: Result<Vec<_>, _> = sample(100)
            .into_iter()
            .map(|p| streams.insert("p".into(), p))
            .collect();
        assert_eq!(result.unwrap_err(), StreamError::TooLarge(500));
    }

    #[test]
    fn test_stream_without_init_is_refused() {
        let mut parts = sample(400);
        parts[0].content = StreamContent::Data(ProposalPart::Data(vec![1]));
        let mut streams = Streams::new(8, 10_000);
        let last = parts
            .into_iter()
            .map(|p| streams.insert("p".into(), p))
            .last()
            .unwrap();
        assert_eq!(
            last.unwrap_err(),
            StreamError::Shape("first part is not Init")
        );
    }

    #[test]
    fn test_open_streams_are_bounded() {
        let mut streams = Streams::new(2, 10_000);
        for name in ["a", "b", "c"] {
            let first = sample(100).remove(0);
            assert!(streams.insert(name.into(), first).unwrap().is_none());
        }
        assert_eq!(streams.open.len(), 2);
    }
}
