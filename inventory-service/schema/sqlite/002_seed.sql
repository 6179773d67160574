-- The catalogue of a fresh database, as ../mysql/002_seed.sql. INSERT OR IGNORE: applying it
-- again never resets stock.

INSERT OR IGNORE INTO products (sku, name, price, currency, available) VALUES
  ('SKU-1001', 'Analog Synthesizer', 49900, 'EUR', 120),
  ('SKU-1002', 'Studio Headphones', 14900, 'EUR', 300),
  ('SKU-1003', 'Techno Vinyl 12-inch', 2999, 'EUR', 500),
  ('SKU-1004', '4-Deck DJ Controller', 69900, 'EUR', 100),
  ('SKU-1005', 'Studio Monitors (pair)', 39900, 'EUR', 150);
