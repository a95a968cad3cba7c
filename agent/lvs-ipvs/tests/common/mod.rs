//! Helpers for the table tests.

#![allow(dead_code)]

pub mod tables;
