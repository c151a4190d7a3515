-- The seller each product was first listed under, so the slug of a withdrawn product stays its
-- seller's (issue #22; checkout/delivery/slugs.py). Rows recorded before this take the seller
-- of an order line of the product when it was ever sold; the others stay NULL ("a seller the
-- edge cannot tell") and are filled in if the product is listed again.
ALTER TABLE catalog_products ADD COLUMN seller TEXT;
UPDATE catalog_products SET seller = (SELECT seller FROM order_lines o WHERE o.product_slug = catalog_products.product_slug
                                      ORDER BY o.id LIMIT 1);
CREATE INDEX order_lines_product ON order_lines(product_slug);
CREATE INDEX purchases_product ON purchases(product_slug);
