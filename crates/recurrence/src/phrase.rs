//! todo
pub struct PhraseRule; pub struct PhraseError; pub fn parse_phrase(){}
