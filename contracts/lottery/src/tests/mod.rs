//! Behaviour tests of the draw and the bundle, over generated lotteries.

mod bundle;
mod draw;
mod fixture;
mod statistics;
