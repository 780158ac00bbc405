from tests.contract.persistence.backends import db, db_url, postgres_url

__all__ = ["db", "db_url", "postgres_url"]
