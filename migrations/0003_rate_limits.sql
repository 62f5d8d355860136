-- Per-user write rate limit of the task-api: a fixed one-minute window. A user's count is kept
-- in a few shards (the database backend's pid modulo 8), so concurrent writes of one user do not
-- queue on a single row lock; the limit is checked against the sum of the shards. At most eight
-- rows per user: a shard is reset when its window has passed.
create table if not exists rate_limits (
    user_id      text        not null,
    shard        smallint    not null,
    window_start timestamptz not null,
    hits         integer     not null,
    primary key (user_id, shard)
);
