def simulate_responses(*a, **k): raise NotImplementedError
