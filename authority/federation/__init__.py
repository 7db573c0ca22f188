"""Federation with the European gateway (EFGS): share our keys with the countries our users visited, bring theirs."""
