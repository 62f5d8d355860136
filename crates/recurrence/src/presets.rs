//! todo
pub struct Preset; pub fn preset(){}
