"""Calabi–Yau geometry: hypersurfaces, sampling, patches, measures, distances, clustering, io."""
