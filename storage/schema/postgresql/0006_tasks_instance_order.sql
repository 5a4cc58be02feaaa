-- An instance's tasks are read in (created_at, id) order straight from the index, without
-- sorting whole rows.
DROP INDEX tasks_instance;
CREATE INDEX tasks_instance ON tasks (instance_id, created_at, id);
