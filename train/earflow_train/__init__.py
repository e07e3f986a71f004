"""earflow's training package: the PyTorch twin of the C engine and everything that
trains and evaluates it. The scripts in train/ are thin entry points into it.

Modules (one job each):
  dsp        numpy reference of the engine's front end, noise, conditioning, prior
  frontend   the same front end in torch, batched (STFT, compression, ISTFT)
  model      the U-Net twin and the offline reference render
  flow       x_t, time-step sampling, Euler / midpoint with early skip (as the engine)
  losses     multi-resolution STFT, SI-SDR, ILD / IPD, interaural coherence
  loop       the training loop (resume, seed, logging, cosine cycles, --init, export)
  export     safetensors writer / reader, --init checks
  evaluation shared evaluation core (C renders, statistics, tables)
  audio      the one WAV reader and writer
  corpus     the corpus builder (Debian packages -> 48 kHz WAVs, manifest, splits)
  mixtures   separation mixtures from the corpus
  binsim, hrtf, acoustics, layout, simset: the binaural room simulator and data set
"""
