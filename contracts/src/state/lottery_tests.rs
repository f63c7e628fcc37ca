//! Lottery txs through the state (filled in by the lottery tests).
