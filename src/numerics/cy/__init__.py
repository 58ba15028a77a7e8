"""Calabi–Yau geometry: hypersurfaces, sampling, patches, measures, distances, clustering, io, kernels and the kernel flow (3.5)."""

from .hypersurface import Hypersurface as Hypersurface
from .hypersurface import fermat as fermat
from .hypersurface import fermat_cubic as fermat_cubic
from .hypersurface import fermat_quartic as fermat_quartic
from .hypersurface import fermat_quintic as fermat_quintic
from .hypersurface import quintic_family as quintic_family

from .sampling import PointSample as PointSample
from .sampling import sample_points as sample_points
from .sampling import sample_in_chart as sample_in_chart
from .sampling import line_coefficients as line_coefficients
from .sampling import aberth_roots as aberth_roots
from .sampling import solve_lines as solve_lines

from .patches import Chart as Chart
from .patches import chart as chart
from .patches import free_indices as free_indices
from .patches import embedding_jacobian as embedding_jacobian
from .patches import pair_index as pair_index

from .measure import FS_SCALE as FS_SCALE
from .measure import PointData as PointData
from .measure import SigmaResult as SigmaResult
from .measure import fs_metric as fs_metric
from .measure import fs_det as fs_det
from .measure import omega_squared as omega_squared
from .measure import point_data as point_data
from .measure import fs_volume as fs_volume
from .measure import clustered_stderr as clustered_stderr
from .measure import sigma_measure as sigma_measure
from .measure import eta as eta
from .measure import sample_region as sample_region
from .measure import fs_sigma as fs_sigma
from .measure import polydisc_integrals as polydisc_integrals

from .distance import NearestNeighbourStatistics as NearestNeighbourStatistics
from .distance import apply_threshold as apply_threshold
from .distance import default_threshold as default_threshold
from .distance import fs_distance as fs_distance
from .distance import fs_distance_matrix as fs_distance_matrix
from .distance import nearest_neighbour_distances as nearest_neighbour_distances
from .distance import nearest_neighbour_statistics as nearest_neighbour_statistics
from .distance import poisson_mean_nn_distance as poisson_mean_nn_distance
from .distance import projector_embedding as projector_embedding

from .cluster import BatchedClustering as BatchedClustering
from .cluster import agglomerative_fs_labels as agglomerative_fs_labels
from .cluster import batched_agglomerative_clustering as batched_agglomerative_clustering
from .cluster import birch_euclidean_labels as birch_euclidean_labels
from .cluster import cluster_order as cluster_order
from .cluster import euclidean_features as euclidean_features
from .cluster import euclidean_silhouette_score as euclidean_silhouette_score
from .cluster import fs_silhouette_score as fs_silhouette_score

from .io import save_points as save_points
from .io import load_points as load_points

from .kernels import GaussianKernel as GaussianKernel
from .kernels import DeltaKernel as DeltaKernel
from .kernels import ReluNtkKernel as ReluNtkKernel
from .kernels import apply_kernel as apply_kernel
from .kernels import nearest_indices as nearest_indices

from .kernel_flow import FlowSettings as FlowSettings
from .kernel_flow import FlowResult as FlowResult
from .kernel_flow import point_set as point_set
from .kernel_flow import kernel_apply as kernel_apply
from .kernel_flow import run_flow as run_flow
from .kernels import kernel_from as kernel_from
from .kernels import ProfileKernel as ProfileKernel
from .kernel_flow import ntk_apply as ntk_apply
from .kernel_flow import sigma_of as sigma_of
from .kernel_search import SearchSettings as SearchSettings
from .kernel_search import search_hyperparameters as search_hyperparameters
from .kernel_search import best_trial as best_trial
from .kernel_search import flow_on_fresh_points as flow_on_fresh_points
from .noise_analysis import noise_analysis as noise_analysis
from .noise_analysis import nn_scaling_in_chart as nn_scaling_in_chart
from .noise_analysis import project_to_surface as project_to_surface
from .noise_analysis import distance_for_gain as distance_for_gain
from .noise_analysis import points_for_distance as points_for_distance
