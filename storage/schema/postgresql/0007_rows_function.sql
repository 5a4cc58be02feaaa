-- The rows of a batch statement's JSON parameter, estimated at 1 where jsonb_array_elements is
-- estimated at 100. With 100, the planner joined a batch to instances, tasks or task_queue by
-- hashing after a sequential scan of the whole table (up to tables of tens of thousands of
-- rows), and a statement prepared while its table was still empty kept that plan until the table
-- was next analysed. With 1 it goes through the index at every size. STRICT keeps the function
-- from being inlined, which would bring the estimate of 100 back.
CREATE FUNCTION tramite_rows(rows jsonb) RETURNS TABLE (value jsonb, key bigint) LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE ROWS 1 AS 'SELECT value, ordinality FROM jsonb_array_elements(rows) WITH ORDINALITY';
