//! todo
pub fn describe(){}
