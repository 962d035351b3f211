-- A read-only PostgreSQL role for DBSnap snapshots (PostgreSQL 14+).
-- Run as a superuser, then check it: dbsnap connection test "postgres://dbsnap_backup:$PW@host/db"
-- should report "read-only: enough for snapshots and nothing more".

CREATE ROLE dbsnap_backup LOGIN PASSWORD :'backup_password';
GRANT pg_read_all_data TO dbsnap_backup;
-- Keeps long snapshots from holding back vacuum forever; adjust to your largest table.
ALTER ROLE dbsnap_backup SET idle_in_transaction_session_timeout = '6h';
