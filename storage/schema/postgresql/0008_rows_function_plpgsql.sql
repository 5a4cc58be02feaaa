-- Tramite_rows in PL/pgSQL, whose query is planned once per session. A SQL function that is not
-- inlined is parsed and planned again on every call: 10% of the backends' CPU in the durable
-- benchmark.
CREATE OR REPLACE FUNCTION tramite_rows(rows jsonb) RETURNS TABLE (value jsonb, key bigint) LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE ROWS 1 AS 'BEGIN RETURN QUERY SELECT e.value, e.ordinality FROM jsonb_array_elements(rows) WITH ORDINALITY AS e; END';
