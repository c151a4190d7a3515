"""Reviews: ratings and reviews from verified buyers, their moderation, the invitations to write
one, and the export of ratings and popularity that the static build reads (issue #14).

It sits between delivery and ops: who may review is a question of ownership (a purchase not
refunded, checkout.payments), and the export hands the storefront rebuild to delivery's
`approval.rebuild`, the path an approved upload takes.
"""

EMAIL_SUBJECTS = {
    "review_invite": "How are you finding your purchase? Tell other buyers",
    "review_hidden": "Your review was hidden by a moderator",
    "price_drop": "A product on your wishlist costs less now",
}
