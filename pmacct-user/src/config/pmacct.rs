//! Reader for pmacct's own config syntax (`key[plugin]: value`).
