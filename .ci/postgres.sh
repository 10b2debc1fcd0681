# Sourced by .ci/run: start Debian's PostgreSQL on 127.0.0.1 and export
# WORKSTATION_TEST_POSTGRES_URL for the tests' PostgreSQL runs. Returns non-zero on failure.
if ! command -v pg_ctlcluster >/dev/null 2>&1 || [ -z "$(ls /usr/lib/postgresql 2>/dev/null)" ]; then
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql \
        >/dev/null) || return 1
fi
pg_version=$(ls /usr/lib/postgresql | sort -V | tail -1)
if ! pg_lsclusters -h | grep -q "^$pg_version main "; then
    pg_createcluster "$pg_version" main >/dev/null || return 1
fi
if ! pg_lsclusters -h | grep -q "^$pg_version main .* online"; then
    pg_ctlcluster "$pg_version" main start || return 1
fi
pg_port=$(pg_lsclusters -h | awk -v v="$pg_version" '$1 == v && $2 == "main" {print $3}')
[ -n "$pg_port" ] || return 1
pg_password=$(python3 -c 'import secrets; print(secrets.token_hex(16))')
# the password goes in on standard input, not on a command line
runuser -u postgres -- psql -q -v ON_ERROR_STOP=1 -p "$pg_port" postgres <<SQL || return 1
DO \$\$ BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'workstation_ci') THEN
        CREATE ROLE workstation_ci LOGIN CREATEDB;
    END IF;
END \$\$;
ALTER ROLE workstation_ci PASSWORD '$pg_password';
SQL
export WORKSTATION_TEST_POSTGRES_URL="postgresql+psycopg://workstation_ci:$pg_password@127.0.0.1:$pg_port/postgres"
echo "PostgreSQL $pg_version on 127.0.0.1:$pg_port: the database tests run on it too"
