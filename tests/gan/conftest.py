"""GAN tests: Monte Carlo configurations come from gan_testdata (NumPy Metropolis);
importing torch is optional, the tests skip cleanly without it."""
