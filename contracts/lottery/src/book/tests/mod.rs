//! Tests of the lottery book: step tables for every op, the lifecycle end to end (with a real
//! threshold BLS seed), the fairness statistics, and random op sequences.

mod kit;
mod lifecycle;
mod proptests;
mod statistics;
mod steps;
