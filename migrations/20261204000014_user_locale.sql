-- How each person reads the interface: the language (NULL: the browser's Accept-Language)
-- and the IANA time zone (NULL: the browser's, else UTC).
ALTER TABLE users
    ADD COLUMN language text CHECK (language IN ('en', 'fr')),
    ADD COLUMN time_zone text CHECK (length(time_zone) BETWEEN 1 AND 64);
