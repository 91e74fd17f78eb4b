"""The PostgreSQL fixture itself: a real server on loopback, a fresh database per test."""

from __future__ import annotations


def test_each_test_gets_a_fresh_database_on_a_real_server(postgres):
    import psycopg

    assert postgres.startswith("postgresql://postgres@127.0.0.1:")
    with psycopg.connect(postgres, autocommit=True) as db:
        assert db.execute("select count(*) from pg_tables where schemaname = 'public'").fetchone() == (0,)
        db.execute("create table t (x int)")
        assert db.execute("select current_database()").fetchone()[0] in postgres
