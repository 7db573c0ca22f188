"""Patient codes (OTPs): issuing, authorizing, redeeming, and the HIS API keys."""
